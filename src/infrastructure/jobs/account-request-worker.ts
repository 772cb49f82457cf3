import type { ProcessAccountRequest } from '@application/account/process-account-request';
import type { Clock } from '@application/ports/clock';
import type { Logger } from '@application/ports/logger';
import type { SecretBox } from '@application/ports/secret-box';
import { type AccountRequestQueue, type ClaimedAccountRequest, openAccountRequest } from './account-request-queue';
import { BackgroundWorker, type RoundResult } from './background-worker';
import { addSeconds, describeFailure as describe, type LeasedQueueSettings, nextAttemptAt } from './queue-settings';

export interface AccountRequestWorkerSettings extends LeasedQueueSettings {
  /**
   * A poke runs a round after this long, plus up to as much again at random: the request's answer is on the wire
   * before its per-account work starts, so that work never slows the answer it is about.
   */
  pokeDelayMs: number;
  /**
   * stop() hands out what is due for at most this long, then stops after the request in hand; the rest waits in the
   * table for another instance or the restart (the ones this worker had claimed are handed back, unleased). Until 2026-12-02 stop()
   * drained everything due whatever its size, and a backlog outlasted the process's 30-s shutdown limit, so the
   * e-mail sender and the event relay after it were never stopped gracefully (an outside review).
   */
  stopDrainMs?: number;
  /**
   * Age (since recorded) after which a failing request is given up, whatever the failure: 24 h by default (a sign-up
   * or reset asked for a day ago is better refused by silence than answered out of the blue). An outage is retried
   * until then; a request first claimed later is still processed (it mints its links then).
   */
  maxAgeSeconds?: number;
  /**
   * Whether a failure is an outage (the database unreachable, or the transaction rolled back for a concurrent one):
   * nothing was written and the same request will succeed once it is back. The composition root passes the HTTP
   * layer's classification (dependencyUnreachable, transactionContended); unset, every failure is the request's own.
   */
  isOutage?: (error: unknown) => boolean;
}

const DEFAULT_MAX_AGE_SECONDS = 86_400;

export const DEFAULT_ACCOUNT_REQUEST_WORKER_SETTINGS: AccountRequestWorkerSettings = {
  batchSize: 20,
  pollIntervalMs: 5_000,
  leaseSeconds: 120,
  baseRetrySeconds: 5,
  maxRetrySeconds: 900,
  maxAttempts: 10,
  pokeDelayMs: 25,
  stopDrainMs: 5_000,
  maxAgeSeconds: DEFAULT_MAX_AGE_SECONDS,
};

/**
 * Processes the account requests the HTTP handlers record (register, password reset, verification resend):
 * claim due requests (a lease, so any number of instances can run this), open the sealed payload, let
 * ProcessAccountRequest do the per-account work in one transaction; on failure retry with capped exponential
 * backoff. A request is given up (logged as an error; its username is free again) after `maxAttempts` failures of its
 * own, or once a retry would come `maxAgeSeconds` after it was recorded. An outage (settings.isOutage) is not the request's
 * failure and counts toward the age only: until 2026-12-05 ten failed attempts of any kind gave a request up, so a
 * database failing its transactions for half an hour dropped the sign-ups recorded before it (a security review).
 * Poked after every commit that recorded a request. Logs carry the request id and kind, never the payload.
 */
export class AccountRequestWorker {
  private readonly worker: BackgroundWorker;
  private processor: ProcessAccountRequest | null = null;

  constructor(
    private readonly queue: AccountRequestQueue,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly settings: AccountRequestWorkerSettings = DEFAULT_ACCOUNT_REQUEST_WORKER_SETTINGS,
  ) {
    const { pollIntervalMs, pokeDelayMs } = settings;
    this.worker = new BackgroundWorker((stopping) => this.round(stopping), { name: 'account requests', pollIntervalMs, pokeDelayMs }, logger);
  }

  /** The use case is built by the container, after the unit of work that pokes this worker. */
  handleWith(processor: ProcessAccountRequest): void {
    this.processor = processor;
  }

  start(): void {
    if (this.processor) this.worker.start();
  }

  /** Until a processor is set, requests just wait in the table (start() picks them up). */
  poke(): void {
    if (this.processor) this.worker.poke();
  }

  /** Processes everything due now, without the poke delay (the in-memory unit of work, tests). */
  async drain(): Promise<void> {
    if (this.processor) await this.worker.drain();
  }

  /**
   * Processes what is due (the last answers' requests) for up to `stopDrainMs`, then no new rounds and the round
   * under way ends after the request in hand. What is left waits in the table (claimed ones handed back).
   */
  async stop(): Promise<void> {
    const limit = setTimeout(() => void this.worker.stop(), this.settings.stopDrainMs ?? DEFAULT_ACCOUNT_REQUEST_WORKER_SETTINGS.stopDrainMs);
    try {
      await this.drain();
    } finally {
      clearTimeout(limit);
    }
    await this.worker.stop();
  }

  private async round(stopping: AbortSignal): Promise<RoundResult> {
    const now = this.clock.now();
    let batch: ClaimedAccountRequest[];
    try {
      batch = await this.queue.claimDue(now, this.settings.batchSize, addSeconds(now, this.settings.leaseSeconds));
    } catch (error) {
      this.logger.warn({ err: describe(error) }, 'account requests: cannot claim due requests; will retry');
      return 'idle';
    }
    for (const [index, claimed] of batch.entries()) {
      if (stopping.aborted) {
        await this.release(batch.slice(index));
        return 'idle';
      }
      await this.process(claimed);
    }
    return batch.length === this.settings.batchSize ? 'more' : 'idle';
  }

  /**
   * A stop: the requests claimed but not started go back at once, for another instance or the restart, instead of
   * waiting out their lease (until 2026-12-07 they did, and the README said otherwise: sign-ups and reset e-mails
   * up to `leaseSeconds` late after every deploy that stopped a worker mid-batch).
   */
  private async release(held: ClaimedAccountRequest[]): Promise<void> {
    const claims = held.map((claimed) => ({ id: claimed.id, claimId: claimed.claimId }));
    try {
      await this.queue.release(claims);
      this.logger.info({ released: claims.length }, 'account requests: stopping; claimed requests not started are handed back');
    } catch (error) {
      this.logger.warn({ err: describe(error), held: claims.length }, 'account requests: stopping; cannot hand back claimed requests, they come back when their lease ends');
    }
  }

  private async process(claimed: ClaimedAccountRequest): Promise<void> {
    const claim = { id: claimed.id, claimId: claimed.claimId };
    try {
      await this.processor!.execute(claim, openAccountRequest(this.box, claimed));
    } catch (error) {
      await this.failed(claimed, error);
    }
  }

  /** Retried with backoff (growing with every attempt, outages too: no hot loop), unless it is time to give up. */
  private async failed(claimed: ClaimedAccountRequest, error: unknown): Promise<void> {
    const claim = { id: claimed.id, claimId: claimed.claimId };
    const reason = describe(error);
    const outage = this.settings.isOutage?.(error) ?? false;
    // The request's own failures are counted in its row (`failures`), outages not: every instance, and a restart,
    // sees the same count (until stop 48 this worker kept the outages in memory and a restart forgot them).
    const failures = claimed.failures + (outage ? 0 : 1);
    const fields = { account_request_id: claimed.id, attempts: claimed.attempts, failures, outage, err: reason };
    const retryAt = nextAttemptAt(this.clock.now(), claimed.attempts, this.settings);
    const tooOld = retryAt.getTime() - claimed.createdAt.getTime() >= this.maxAgeSeconds * 1000;
    if (tooOld || (!outage && failures >= this.settings.maxAttempts)) {
      await this.queue.abandon(claim, reason, this.clock.now()).catch(() => undefined);
      const ageSeconds = Math.round((this.clock.now().getTime() - claimed.createdAt.getTime()) / 1000);
      const why = tooOld ? `not processed within ${this.maxAgeSeconds} s of being recorded` : 'failed too often';
      this.logger.error({ ...fields, age_seconds: ageSeconds }, `account request ${why}; given up`);
      return;
    }
    await this.queue.markFailed(claim, reason, retryAt, !outage).catch(() => undefined);
    this.logger.warn({ ...fields, next_attempt_at: retryAt.toISOString() }, 'account request failed; queued for retry');
  }

  private get maxAgeSeconds(): number {
    return this.settings.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS;
  }

}
