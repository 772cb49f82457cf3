import type { Clock } from '@application/ports/clock';
import type { Logger } from '@application/ports/logger';
import type { Mailer } from '@application/ports/mailer';
import type { SecretBox } from '@application/ports/secret-box';
import { BackgroundWorker, type RoundResult } from '@infrastructure/jobs/background-worker';
import { addSeconds, describeFailure as describe, type LeasedQueueSettings, nextAttemptAt } from '@infrastructure/jobs/queue-settings';
import { isPermanentFailure } from './delivery-failure';
import type { ClaimedEmail, EmailQueue } from './email-queue';

export interface EmailSenderSettings extends LeasedQueueSettings {
  /** Age (since queued) after which a row is given up on, tried or not: its links are stale. EMAIL_MAX_AGE. */
  maxAgeSeconds: number;
}

export const DEFAULT_EMAIL_SENDER_SETTINGS: EmailSenderSettings = {
  batchSize: 20,
  pollIntervalMs: 5_000,
  leaseSeconds: 300,
  baseRetrySeconds: 10,
  maxRetrySeconds: 3_600,
  maxAttempts: 10,
  maxAgeSeconds: 3 * 86_400,
};

/**
 * Delivers the email outbox through the Mailer: claim due rows (a lease, so any number of instances can run
 * this), open the sealed bodies, send, mark sent; on failure retry later with capped exponential backoff, until
 * `maxAttempts` attempts or `maxAgeSeconds` of age: then the row is marked failed, kept for inspection and never
 * sent, so that an undeliverable address cannot hold the queue forever. A permanent rejection of the message (a 5xx
 * reply to RCPT TO or DATA, see isPermanentFailure) marks it failed at once. At least once: a crash after the server
 * accepted a message and before it is marked sent sends it again once the lease ends. Logs carry the row id,
 * subject and error, never the recipient or the body: addresses in an error are redacted (describeFailure).
 */
export class EmailOutboxSender {
  private readonly worker: BackgroundWorker;

  constructor(
    private readonly queue: EmailQueue,
    private readonly mailer: Mailer,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly settings: EmailSenderSettings = DEFAULT_EMAIL_SENDER_SETTINGS,
  ) {
    this.worker = new BackgroundWorker(() => this.round(), { name: 'email outbox', pollIntervalMs: settings.pollIntervalMs }, logger);
  }

  start(): void {
    this.worker.start();
  }

  /** Something was queued (or may be due): run a round now, or right after the current one. */
  poke(): void {
    this.worker.poke();
  }

  /** Sends everything due now and resolves when nothing due is left (the in-memory unit of work, tests). */
  drain(): Promise<void> {
    return this.worker.drain();
  }

  /** No new rounds; waits for the messages in flight to be sent and marked. */
  stop(): Promise<void> {
    return this.worker.stop();
  }

  private async round(): Promise<RoundResult> {
    const now = this.clock.now();
    let batch: ClaimedEmail[];
    try {
      batch = await this.queue.claimDue(now, this.settings.batchSize, addSeconds(now, this.settings.leaseSeconds));
    } catch (error) {
      this.logger.warn({ err: describe(error) }, 'email outbox: cannot claim due emails; will retry');
      return 'idle';
    }
    for (const email of batch) await this.deliver(email);
    return batch.length === this.settings.batchSize ? 'more' : 'idle';
  }

  private async deliver(email: ClaimedEmail): Promise<void> {
    if (this.tooOld(email)) {
      await this.giveUp(email, `not sent within ${this.settings.maxAgeSeconds} s of being queued`);
      return;
    }
    try {
      const message = { id: email.id, to: email.recipient, subject: email.subject, text: this.box.open(email.sealedText), html: this.box.open(email.sealedHtml) };
      await this.mailer.send(message);
    } catch (error) {
      await this.failed(email, error);
      return;
    }
    try {
      await this.queue.markSent(email, this.clock.now());
    } catch (error) {
      // The lease ends and another round sends it again: the documented at-least-once case.
      this.logger.error({ email_id: email.id, err: describe(error) }, 'email sent but not marked sent; it may be sent once more');
    }
  }

  /**
   * A failed attempt: retried later, unless the message was refused for good, or it was the last attempt allowed,
   * or the next would come too late.
   */
  private async failed(email: ClaimedEmail, error: unknown): Promise<void> {
    // The server's reply may name the recipient ("550 5.1.1 <r5@example.com>: ..."): never into the row or the log.
    const reason = describe(error, [email.recipient]);
    const retryAt = nextAttemptAt(this.clock.now(), email.attempts, this.settings);
    if (isPermanentFailure(error) || email.attempts >= this.settings.maxAttempts || this.tooOld(email, retryAt)) {
      await this.giveUp(email, reason);
      return;
    }
    await this.queue.markFailed(email, reason, retryAt).catch(() => undefined);
    const fields = { email_id: email.id, subject: email.subject, attempts: email.attempts, next_attempt_at: retryAt.toISOString(), err: reason };
    this.logger.warn(fields, 'email delivery failed; queued for retry');
  }

  private async giveUp(email: ClaimedEmail, reason: string): Promise<void> {
    const now = this.clock.now();
    try {
      await this.queue.markUndeliverable(email, reason, now);
    } catch (error) {
      // Still leased: the next claim after the lease decides again (and gives up again).
      this.logger.error({ email_id: email.id, err: describe(error) }, 'email outbox: cannot mark an email failed; will retry');
      return;
    }
    const ageSeconds = Math.round((now.getTime() - email.createdAt.getTime()) / 1000);
    const fields = { email_id: email.id, subject: email.subject, attempts: email.attempts, age_seconds: ageSeconds, err: reason };
    this.logger.warn(fields, 'email given up: marked failed and will not be sent');
  }

  /** Whether the row is (or at `at` would be) older than the maximum age. */
  private tooOld(email: ClaimedEmail, at: Date = this.clock.now()): boolean {
    return at.getTime() - email.createdAt.getTime() >= this.settings.maxAgeSeconds * 1000;
  }
}
