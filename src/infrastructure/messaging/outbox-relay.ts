import type { Clock } from '@application/ports/clock';
import type { EventPublisher } from '@application/ports/event-publisher';
import type { Logger } from '@application/ports/logger';
import { Backoff, retryDelayMs } from '@application/shared/retry-delay';
import { BackgroundWorker, type RoundResult } from '@infrastructure/jobs/background-worker';
import { OutboxPurge } from './outbox-purge';
import { DEFAULT_RELAY_OPTIONS, type OutboxRelayOptions, WAKE_SPACING_MS } from './outbox-relay-options';
import type { BatchOutcome, OutboxStore, RefusedEvent } from './outbox-store';

export { DEFAULT_RELAY_OPTIONS, type OutboxRelayOptions } from './outbox-relay-options';

/**
 * Moves committed events from the outbox to the broker, at least once: a row is marked published only after
 * the broker confirmed it, in the transaction that held the row's claim. A crash between the confirm and that
 * commit publishes the batch again (the documented duplicate bound: one batch per relay crash; besides, a refused
 * event goes again at each retry to the queues that had taken it), and nothing is lost. Any number of relays can run
 * on one database.
 *
 * A refused event (nacked, or not confirmed in time: a full queue with `x-overflow: reject-publish`, a quorum queue
 * without a majority) is the event's own failure: it gets its own retry time (capped exponential backoff on its
 * attempts) and the claim skips it until then, so the events behind it go out meanwhile and may overtake it. The
 * relay as a whole backs off only when the broker or the database is away (nothing can be published). Until
 * 2026-12-05 one unconfirmed event failed the whole round, backed the relay off up to 30 s (pokes ignored) and
 * was claimed again first every round: a consumer's full queue held back every event, revocations included (an
 * outside review measured 379 of 1,200 published in 31 s behind one refused event).
 */
export class OutboxRelay {
  private readonly options: OutboxRelayOptions;
  private readonly backoff: Backoff;
  private readonly worker: BackgroundWorker;
  private readonly purge: OutboxPurge;
  private nextLagLogAt = 0;
  private publishedTotal = 0;
  /** The broker was reachable at least once (before that, its absence is start-up, not an outage). */
  private brokerSeen = false;
  /** An outage was warned about and not yet followed by a publishing round. */
  private warned = false;
  /** When the last wake() was honoured (epoch ms; null: never). */
  private lastWakeAt: number | null = null;
  /** A round succeeded (the broker was usable) since that wake. */
  private publishedSinceWake = false;

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
    this.purge = new OutboxPurge(store, logger, this.options);
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

  /**
   * The broker is back (its connection and channels are up again, the composition root calls this): a round now,
   * cutting short the backoff the outage built up, since the events committed meanwhile (revocations among them)
   * can go out at once. Only the broker's return ends a backoff: an event the broker refuses waits on its own
   * retry times (relayBatch). A wake less than max(minBackoffMs, 1 s) after the last one honoured is ignored unless
   * a round succeeded since (then the broker was really back, and this wake ends a new outage, however short). A
   * broker (or a load balancer in front of it) that completes the handshake and then drops the connection made every
   * reconnect a wake, and until a review of stop 52 that ran a claim transaction every 50-170 ms against a backoff of
   * 8 s (15 in 6 s); the connection itself now also backs off while its connections do not last.
   */
  wake(): void {
    const now = this.clock.now().getTime();
    const spacingMs = Math.max(this.options.minBackoffMs, WAKE_SPACING_MS);
    if (this.lastWakeAt !== null && !this.publishedSinceWake && now - this.lastWakeAt < spacingMs) return;
    this.lastWakeAt = now;
    this.publishedSinceWake = false;
    this.worker.wake();
  }

  /** Routine events were just committed: look within `batchDelayMs` (one round for that window's commits). */
  pokeSoon(): void {
    this.worker.poke(this.options.batchDelayMs);
  }

  /** Finishes the batch in flight (its confirms and marks), then stops. */
  async stop(): Promise<void> {
    await this.worker.stop();
  }

  /**
   * One batch: claim the due events, publish, wait for the confirms, mark; each refused event is given its retry
   * time and logged (id and type, never the payload).
   */
  async relayBatch(): Promise<BatchOutcome> {
    const now = this.clock.now();
    const refused: { event: RefusedEvent; retryInMs: number }[] = [];
    const retryAt = (event: RefusedEvent) => {
      const retryInMs = retryDelayMs(event.attempts, { baseMs: this.options.minBackoffMs, maxMs: this.options.maxBackoffMs });
      refused.push({ event, retryInMs });
      return new Date(now.getTime() + retryInMs);
    };
    const outcome = await this.store.processBatch(this.options.batchSize, now, (events) => this.publisher.publish(events), retryAt);
    this.publishedTotal += outcome.published;
    for (const { event, retryInMs } of refused) {
      this.logger.warn(
        { event_id: event.id, event_type: event.type, attempts: event.attempts, retry_in_ms: retryInMs, reason: event.error },
        'outbox relay: event not confirmed by the broker; will retry it',
      );
    }
    return outcome;
  }

  /**
   * Logs the lag when due, and purges rows past retention: when due, a purge starts, and each call deletes one
   * slice of it (at most `purgeRowsPerRound` rows) until it is done. Until 2026-12-05 one round deleted everything
   * past retention in 5,000-row chunks and published nothing meanwhile, for seconds (an outside review).
   */
  async housekeeping(): Promise<void> {
    const now = this.clock.now().getTime();
    if (now >= this.nextLagLogAt) {
      this.nextLagLogAt = now + this.options.lagLogIntervalMs;
      await this.logLag(now);
    }
    await this.purge.round(now);
  }

  /** Whether a purge is under way (more slices to delete). */
  get purging(): boolean {
    return this.purge.running;
  }

  /**
   * One turn of the worker: one batch unless the broker is away, then housekeeping. Publishing comes first and a
   * failed housekeeping (the lag query or a purge past the query deadline) only warns: until 2026-12-02 the first
   * round after a long stop purged every row past retention before it published anything, and a failed purge
   * failed the round and backed the relay off (an outside review). While a purge is under way a publishing round
   * asks for the next one at once: batch, slice, batch, slice, so that a commit waits for one slice at most.
   */
  private async step(): Promise<RoundResult> {
    const result = await this.publishStep();
    await this.housekeeping().catch((error: unknown) => {
      this.logger.warn({ reason: error instanceof Error ? error.message : String(error) }, 'outbox relay: housekeeping failed; will try again');
    });
    return result === 'idle' && this.purging ? 'more' : result;
  }

  private async publishStep(): Promise<RoundResult> {
    try {
      // Until the broker's first connection (start-up: the connection logs its own retries) the relay waits quietly.
      if (!this.publisher.isAvailable()) return this.failed('broker unavailable', this.brokerSeen);
      this.brokerSeen = true;
      const { claimed, published } = await this.relayBatch();
      // Refused events wait for their own retry times (relayBatch), the others went out: not the relay's failure,
      // unless none went out because the broker went away during the batch (its connection or channel lost).
      if (claimed > 0 && published === 0 && !this.publisher.isAvailable()) return this.failed(`broker lost: none of ${claimed} events confirmed`);
      if (this.warned) this.logger.info({}, 'outbox relay: publishing again');
      this.warned = false;
      this.publishedSinceWake = true;
      this.backoff.reset();
      return claimed === this.options.batchSize ? 'more' : 'idle';
    } catch (error) {
      return this.failed(error instanceof Error ? error.message : String(error), true, error);
    }
  }

  /** `error`: what the round threw, logged itself (its stack, its cause): a bug looks like an outage otherwise. */
  private failed(reason: string, warn = true, error?: unknown): RoundResult {
    const wait = this.backoff.next();
    if (warn && !this.warned) {
      this.warned = true;
      this.logger.warn({ reason, retry_in_ms: wait, ...(error === undefined ? {} : { err: error }) }, 'outbox relay: cannot publish; backing off');
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
