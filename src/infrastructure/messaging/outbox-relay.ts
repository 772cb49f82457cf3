import type { Clock } from '@application/ports/clock';
import type { EventPublisher } from '@application/ports/event-publisher';
import type { Logger } from '@application/ports/logger';
import { Backoff } from '@application/shared/retry-delay';
import { BackgroundWorker, type RoundResult } from '@infrastructure/jobs/background-worker';
import type { BatchOutcome, OutboxStore } from './outbox-store';

export interface OutboxRelayOptions {
  batchSize: number;
  /** How often an idle relay looks for rows other instances committed (its own commits poke it). */
  pollIntervalMs: number;
  /**
   * A commit of routine events only (relay-urgency.ts) wakes the relay this long afterwards, and the commits of
   * that window share its round; any other commit wakes it at once (0: always at once).
   */
  batchDelayMs: number;
  /** Waits while the broker or the database is away: from min, doubling, up to max (see retryDelayMs). */
  minBackoffMs: number;
  maxBackoffMs: number;
  /** How often the lag (pending count, age of the oldest pending event) is logged. */
  lagLogIntervalMs: number;
  /** Lag above this is logged as a warning. */
  lagWarnMs: number;
  /** Published rows are deleted once older than this. */
  retentionMs: number;
  purgeIntervalMs: number;
}

export const DEFAULT_RELAY_OPTIONS: OutboxRelayOptions = {
  batchSize: 200,
  pollIntervalMs: 500,
  batchDelayMs: 50,
  minBackoffMs: 250,
  maxBackoffMs: 30_000,
  lagLogIntervalMs: 60_000,
  lagWarnMs: 60_000,
  retentionMs: 7 * 86_400_000,
  purgeIntervalMs: 3_600_000,
};

/**
 * Moves committed events from the outbox to the broker, at least once: a row is marked published only after
 * the broker confirmed it, in the transaction that held the row's claim. A crash between the confirm and that
 * commit publishes the batch again (the documented duplicate bound: one batch per relay crash); nothing else
 * duplicates, and nothing is lost. Any number of relays can run on one database.
 */
export class OutboxRelay {
  private readonly options: OutboxRelayOptions;
  private readonly backoff: Backoff;
  private readonly worker: BackgroundWorker;
  private nextLagLogAt = 0;
  private nextPurgeAt = 0;
  private publishedTotal = 0;
  /** The broker was reachable at least once (before that, its absence is start-up, not an outage). */
  private brokerSeen = false;
  /** An outage was warned about and not yet followed by a publishing round. */
  private warned = false;

  constructor(
    private readonly store: OutboxStore,
    private readonly publisher: EventPublisher,
    private readonly clock: Clock,
    private readonly logger: Logger,
    options: Partial<OutboxRelayOptions> = {},
  ) {
    this.options = { ...DEFAULT_RELAY_OPTIONS, ...options };
    this.backoff = new Backoff({ baseMs: this.options.minBackoffMs, maxMs: this.options.maxBackoffMs });
    this.worker = new BackgroundWorker(() => this.step(), { name: 'outbox relay', pollIntervalMs: this.options.pollIntervalMs }, logger);
  }

  get published(): number {
    return this.publishedTotal;
  }

  start(): void {
    this.worker.start();
  }

  /** Something was just committed: look now instead of at the next poll (ignored while backing off). */
  poke(): void {
    this.worker.poke(0);
  }

  /** Routine events were just committed: look within `batchDelayMs` (one round for that window's commits). */
  pokeSoon(): void {
    this.worker.poke(this.options.batchDelayMs);
  }

  /** Finishes the batch in flight (its confirms and marks), then stops. */
  async stop(): Promise<void> {
    await this.worker.stop();
  }

  /** One batch: claim, publish, wait for the confirms, mark. */
  async relayBatch(): Promise<BatchOutcome> {
    const outcome = await this.store.processBatch(this.options.batchSize, this.clock.now(), (events) => this.publisher.publish(events));
    this.publishedTotal += outcome.published;
    return outcome;
  }

  /** Logs the lag and purges old published rows when their intervals are due. */
  async housekeeping(): Promise<void> {
    const now = this.clock.now().getTime();
    if (now >= this.nextLagLogAt) {
      this.nextLagLogAt = now + this.options.lagLogIntervalMs;
      await this.logLag(now);
    }
    if (now >= this.nextPurgeAt) {
      this.nextPurgeAt = now + this.options.purgeIntervalMs;
      const cutoff = new Date(now - this.options.retentionMs);
      const purged = await this.store.purgePublished(cutoff);
      const processed = await this.store.purgeProcessed(cutoff);
      if (purged + processed > 0) this.logger.info({ purged, processed_records: processed }, 'outbox: rows past retention purged');
    }
  }

  /**
   * One turn of the worker: one batch unless the broker is away, then housekeeping. Publishing comes first and a
   * failed housekeeping (the lag query or a purge past the query deadline) only warns: until 2026-12-02 the first
   * round after a long stop purged every row past retention before it published anything, and a failed purge
   * failed the round and backed the relay off (an outside review).
   */
  private async step(): Promise<RoundResult> {
    const result = await this.publishStep();
    await this.housekeeping().catch((error: unknown) => {
      this.logger.warn({ reason: error instanceof Error ? error.message : String(error) }, 'outbox relay: housekeeping failed; will try again');
    });
    return result;
  }

  private async publishStep(): Promise<RoundResult> {
    try {
      // Until the broker's first connection (start-up: the connection logs its own retries) the relay waits quietly.
      if (!this.publisher.isAvailable()) return this.failed('broker unavailable', this.brokerSeen);
      this.brokerSeen = true;
      const { claimed, published } = await this.relayBatch();
      if (published < claimed) return this.failed(`${claimed - published} of ${claimed} events not confirmed`);
      if (this.warned) this.logger.info({}, 'outbox relay: publishing again');
      this.warned = false;
      this.backoff.reset();
      return claimed === this.options.batchSize ? 'more' : 'idle';
    } catch (error) {
      return this.failed(error instanceof Error ? error.message : String(error));
    }
  }

  private failed(reason: string, warn = true): RoundResult {
    const wait = this.backoff.next();
    if (warn && !this.warned) {
      this.warned = true;
      this.logger.warn({ reason, retry_in_ms: wait }, 'outbox relay: cannot publish; backing off');
    }
    return { backoffMs: wait };
  }

  private async logLag(now: number): Promise<void> {
    const stats = await this.store.pendingStats();
    const lagMs = stats.oldestCreatedAt === null ? 0 : Math.max(0, now - stats.oldestCreatedAt.getTime());
    const fields = { pending: stats.pending, lag_ms: lagMs, published_total: this.publishedTotal, broker: this.publisher.isAvailable() ? 'up' : 'down' };
    if (lagMs > this.options.lagWarnMs) this.logger.warn(fields, 'outbox relay lag');
    else this.logger.info(fields, 'outbox relay lag');
  }
}
