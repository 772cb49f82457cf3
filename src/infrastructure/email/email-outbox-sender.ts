import type { Clock } from '@application/ports/clock';
import type { Logger } from '@application/ports/logger';
import type { EmailMessage, Mailer } from '@application/ports/mailer';
import { SEALED, type SecretBox } from '@application/ports/secret-box';
import { BackgroundWorker, type RoundResult } from '@infrastructure/jobs/background-worker';
import { addSeconds, describeFailure, type LeasedQueueSettings, nextAttemptAt } from '@infrastructure/jobs/queue-settings';
import { isAboutMessage, isPermanentFailure } from './delivery-failure';
import type { ClaimedEmail, EmailQueue } from './email-queue';

export interface EmailSenderSettings extends LeasedQueueSettings {
  /** Age (since queued) after which a row is given up on, tried or not: its links are stale. EMAIL_MAX_AGE. */
  maxAgeSeconds: number;
  /**
   * The longest one attempt may take, connection to final reply (the SMTP timeouts bound silence only, which a
   * trickling server never leaves): past it the connection is closed and the attempt fails. At most a third of the lease.
   */
  sendTimeoutSeconds: number;
  /** After stop(), how much longer the message on the wire may take before it is cut the same way (shutdown is bounded). */
  stopGraceSeconds: number;
}

export const DEFAULT_EMAIL_SENDER_SETTINGS: EmailSenderSettings = {
  batchSize: 20,
  pollIntervalMs: 5_000,
  leaseSeconds: 300,
  baseRetrySeconds: 10,
  maxRetrySeconds: 3_600,
  maxAttempts: 10,
  maxAgeSeconds: 3 * 86_400,
  sendTimeoutSeconds: 90,
  stopGraceSeconds: 10,
};

/**
 * Delivers the email outbox through the Mailer: claim due rows (a lease, so any number of instances can run
 * this), open the sealed bodies, send, mark sent; on failure retry later with capped exponential backoff, until
 * `maxAttempts` attempts or `maxAgeSeconds` of age: then the row is marked failed, kept for inspection and never
 * sent, so that an undeliverable address cannot hold the queue forever. A permanent rejection of the message (a 5xx
 * reply to RCPT TO or DATA, see isPermanentFailure) marks it failed at once. At least once: a crash after the server
 * accepted a message and before it is marked sent sends it again once the lease ends. Logs carry the row id,
 * subject and error, never the recipient or the body: addresses in an error are redacted (describeFailure), and so is
 * the mailer's login (`secrets`, the SMTP_URL user and password: a server may quote them when it refuses them).
 *
 * The lease covers what the sender still holds: each attempt is cut at `sendTimeoutSeconds`, and before each one
 * the rows not yet sent are re-leased once less than half the lease is left (only those whose lease is still
 * live: a row that lapsed may be another sender's now, and is not sent). A stop() between two messages hands the
 * rows not started back at once (release), for another instance or the restart.
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
    /** Values no error description may show: the mailer's login in the forms it is sent (smtpCredentialForms). */
    private readonly secrets: readonly string[] = [],
  ) {
    if (!(settings.sendTimeoutSeconds > 0 && settings.sendTimeoutSeconds * 3 <= settings.leaseSeconds)) {
      throw new Error(`email outbox: the send deadline (${settings.sendTimeoutSeconds} s) must be positive and at most a third of the lease (${settings.leaseSeconds} s)`);
    }
    this.worker = new BackgroundWorker((stopping) => this.round(stopping), { name: 'email outbox', pollIntervalMs: settings.pollIntervalMs }, logger);
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

  /**
   * No new rounds or messages: waits for the message on the wire to be sent and marked (cut after `stopGraceSeconds`),
   * and hands the batch's unstarted rows back.
   */
  stop(): Promise<void> {
    return this.worker.stop();
  }

  private async round(stopping: AbortSignal): Promise<RoundResult> {
    const now = this.clock.now();
    let leaseEnds = addSeconds(now, this.settings.leaseSeconds);
    let batch: ClaimedEmail[];
    try {
      batch = await this.queue.claimDue(now, this.settings.batchSize, leaseEnds);
    } catch (error) {
      this.logger.warn({ err: this.describe(error) }, 'email outbox: cannot claim due emails; will retry');
      return 'idle';
    }
    // The rows of this claim not tried yet, the next one first.
    let held = batch;
    while (held.length > 0) {
      if (stopping.aborted) {
        await this.release(held);
        return 'idle';
      }
      const at = this.clock.now();
      if (leaseEnds.getTime() - at.getTime() < (this.settings.leaseSeconds * 1000) / 2) {
        const renewed = await this.extendLease(held, at);
        if (renewed === null) return 'idle';
        held = renewed;
        leaseEnds = addSeconds(at, this.settings.leaseSeconds);
        continue;
      }
      const [email, ...rest] = held;
      held = rest;
      if (email) await this.deliver(email, stopping);
    }
    return batch.length === this.settings.batchSize && !stopping.aborted ? 'more' : 'idle';
  }

  /** The rows still held, re-leased from `now`; null when the queue cannot say (they lapse and come back). */
  private async extendLease(held: ClaimedEmail[], now: Date): Promise<ClaimedEmail[] | null> {
    let ids: Set<string>;
    try {
      ids = await this.queue.extendLease(held, now, addSeconds(now, this.settings.leaseSeconds));
    } catch (error) {
      this.logger.warn({ err: this.describe(error), held: held.length }, 'email outbox: cannot extend the lease of claimed emails; they are left to a later claim');
      return null;
    }
    const kept = held.filter((email) => ids.has(email.id));
    if (kept.length < held.length) {
      const lapsed = held.filter((email) => !ids.has(email.id)).map((email) => email.id);
      this.logger.warn({ email_ids: lapsed }, 'email outbox: the lease of claimed emails lapsed before they were sent; they are not sent by this claim');
    }
    return kept;
  }

  /** Shutdown: the rows claimed but not started go back at once instead of waiting out their lease. */
  private async release(held: ClaimedEmail[]): Promise<void> {
    try {
      await this.queue.release(held);
      this.logger.info({ released: held.length }, 'email outbox: stopping; claimed emails not started are handed back');
    } catch (error) {
      this.logger.warn({ err: this.describe(error), held: held.length }, 'email outbox: stopping; cannot hand back claimed emails, they come back when their lease ends');
    }
  }

  private async deliver(email: ClaimedEmail, stopping: AbortSignal): Promise<void> {
    if (this.tooOld(email)) {
      await this.giveUp(email, `not sent within ${this.settings.maxAgeSeconds} s of being queued`);
      return;
    }
    try {
      const message = { id: email.id, to: email.recipient, subject: email.subject, text: this.box.open(email.sealedText, SEALED.emailBody(email.id, 'text')), html: this.box.open(email.sealedHtml, SEALED.emailBody(email.id, 'html')) };
      await this.sendBounded(message, stopping);
    } catch (error) {
      await this.failed(email, error);
      return;
    }
    try {
      await this.queue.markSent(email, this.clock.now());
    } catch (error) {
      // The lease ends and another round sends it again: the documented at-least-once case.
      this.logger.error({ email_id: email.id, err: this.describe(error) }, 'email sent but not marked sent; it may be sent once more');
    }
  }

  /**
   * One attempt, cut after `sendTimeoutSeconds`, or `stopGraceSeconds` after stop() if still on the wire then: the
   * mailer is told through the signal (SMTP closes the connection, so the message cannot complete later) and the
   * attempt fails with ETIMEDOUT at once, whenever the mailer settles.
   */
  private async sendBounded(message: EmailMessage, stopping: AbortSignal): Promise<void> {
    const attempt = new AbortController();
    const cutAfter = (seconds: number, why: string) =>
      setTimeout(() => attempt.abort(Object.assign(new Error(`${why}; connection closed`), { code: 'ETIMEDOUT' })), seconds * 1000);
    const deadline = cutAfter(this.settings.sendTimeoutSeconds, `not delivered within the ${this.settings.sendTimeoutSeconds} s send deadline`);
    let grace: NodeJS.Timeout | undefined;
    const onStop = () => {
      grace = cutAfter(this.settings.stopGraceSeconds, `still sending ${this.settings.stopGraceSeconds} s after shutdown began`);
    };
    if (stopping.aborted) onStop();
    else stopping.addEventListener('abort', onStop, { once: true });
    const cut = new Promise<never>((_, reject) => attempt.signal.addEventListener('abort', () => reject(attempt.signal.reason), { once: true }));
    try {
      await Promise.race([this.mailer.send(message, attempt.signal), cut]);
    } catch (error) {
      throw attempt.signal.aborted ? attempt.signal.reason : error;
    } finally {
      clearTimeout(deadline);
      clearTimeout(grace);
      stopping.removeEventListener('abort', onStop);
    }
  }

  /**
   * A failed attempt: retried later, unless the message was refused for good, or it was the last attempt allowed,
   * or the next would come too late.
   */
  private async failed(email: ClaimedEmail, error: unknown): Promise<void> {
    // The server's reply may name the recipient ("550 5.1.1 <r5@example.com>: ..."): never into the row or the log.
    const reason = this.describe(error, [email.recipient]);
    const retryAt = nextAttemptAt(this.clock.now(), email.attempts, this.settings);
    // The attempt limit counts failures about the message, and only those (message_failures): the relay's own (away,
    // misconfigured) count toward the age limit only. Until 2026-12-04 it compared `attempts`, every claim: after a
    // long outage the first temporary refusal of the message (a mailbox busy) gave it up (an outside review).
    const aboutMessage = isAboutMessage(error);
    const messageFailures = email.messageFailures + (aboutMessage ? 1 : 0);
    if (isPermanentFailure(error) || (aboutMessage && messageFailures >= this.settings.maxAttempts) || this.tooOld(email, retryAt)) {
      await this.giveUp({ ...email, messageFailures }, reason);
      return;
    }
    await this.queue.markFailed(email, reason, retryAt, aboutMessage).catch(() => undefined);
    const fields = { email_id: email.id, subject: email.subject, attempts: email.attempts, message_failures: messageFailures, next_attempt_at: retryAt.toISOString(), err: reason };
    this.logger.warn(fields, 'email delivery failed; queued for retry');
  }

  private async giveUp(email: ClaimedEmail, reason: string): Promise<void> {
    const now = this.clock.now();
    try {
      await this.queue.markUndeliverable(email, reason, now);
    } catch (error) {
      // Still leased: the next claim after the lease decides again (and gives up again).
      this.logger.error({ email_id: email.id, err: this.describe(error) }, 'email outbox: cannot mark an email failed; will retry');
      return;
    }
    const ageSeconds = Math.round((now.getTime() - email.createdAt.getTime()) / 1000);
    const fields = { email_id: email.id, subject: email.subject, attempts: email.attempts, message_failures: email.messageFailures, age_seconds: ageSeconds, err: reason };
    this.logger.warn(fields, 'email given up: marked failed and will not be sent');
  }

  /** An error for the row and the log: `redact` shown as `[address]`, the mailer's login as `[redacted]`. */
  private describe(error: unknown, redact: readonly string[] = []): string {
    return describeFailure(error, redact, this.secrets);
  }

  /** Whether the row is (or at `at` would be) older than the maximum age. */
  private tooOld(email: ClaimedEmail, at: Date = this.clock.now()): boolean {
    return at.getTime() - email.createdAt.getTime() >= this.settings.maxAgeSeconds * 1000;
  }
}
