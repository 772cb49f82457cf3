import type { Clock } from '@application/ports/clock';
import type { Logger } from '@application/ports/logger';
import { purgeExpiredRows, type PurgeCounts } from '@infrastructure/persistence/typeorm/purge-expired';
import type { DataSource } from 'typeorm';
import { dependencyUnreachable, transactionContended } from '@interface/dependency-outage';

/** The first purge comes this long after the start at most (half of it at least), or one interval if shorter. */
const FIRST_RUN_MAX_MS = 10 * 60_000;
/**
 * Rows per batch, and the pause between two: short transactions under the serving pool's query deadline
 * (DATABASE_QUERY_TIMEOUT), with requests let in between (embedded PGlite has one connection).
 */
const BATCH_SIZE = 1000;
const PAUSE_MS = 20;

export interface PurgeScheduleSettings {
  /** PURGE_INTERVAL: between two purges (±10%); 0 = the service never purges (`purge-expired` only). */
  intervalMs: number;
  outboxRetentionSeconds: number;
  auditRetentionSeconds: number;
}

export interface PurgeScheduleDeps {
  dataSource: DataSource;
  /** The signing keys' own purge (retired keys no unexpired token can have been signed with). */
  pruneKeys: () => Promise<void>;
  clock: Clock;
  logger: Logger;
}

/**
 * `purge-expired`, run by the service itself every PURGE_INTERVAL (default 24 h; a review of stop 63: only the
 * relay's hourly purge ran on its own, so in a deployment that did not schedule the command, sent and failed emails
 * with their recipients, ended sessions with their IPs and user agents, spent tokens, processed requests and, with
 * AUDIT_RETENTION set, the audit entries were kept for ever). The first run comes a few minutes after the start
 * (5-10 min, or within one interval if shorter): an instance restarted more often than the interval still purges.
 * Each instance runs its own; the batches skip rows another holds (FOR UPDATE SKIP LOCKED), so two at once only
 * share the work. Batches of 1,000 rows, 20 ms apart, under the query deadline; a table that fails is left for the
 * next run and the others go on. A failed run is logged and tried again at the next interval. close() lets the batch under way
 * commit and starts no other.
 */
export class PurgeSchedule {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly stop = new AbortController();

  constructor(
    private readonly settings: PurgeScheduleSettings,
    private readonly deps: PurgeScheduleDeps,
    private readonly random: () => number = Math.random,
  ) {}

  start(): void {
    if (this.settings.intervalMs <= 0) return;
    const { outboxRetentionSeconds, auditRetentionSeconds, intervalMs } = this.settings;
    this.deps.logger.info(
      { interval_s: intervalMs / 1000, outbox_retention_s: outboxRetentionSeconds, audit_retention_s: auditRetentionSeconds === 0 ? 'kept for ever' : auditRetentionSeconds },
      'purge: rows past retention are deleted by this instance on a schedule (PURGE_INTERVAL; 0 turns it off)',
    );
    const first = Math.min(this.settings.intervalMs, FIRST_RUN_MAX_MS);
    this.schedule(first * (0.5 + 0.5 * this.random()));
  }

  /** Runs one purge now (the schedule's, and tests'): the counts, or null when it failed (logged). */
  async runOnce(): Promise<PurgeCounts | null> {
    const { dataSource, pruneKeys, clock, logger } = this.deps;
    try {
      const counts = await purgeExpiredRows(dataSource, clock.now(), this.settings.outboxRetentionSeconds / 86400, {
        auditRetentionSeconds: this.settings.auditRetentionSeconds,
        signal: this.stop.signal,
        batchSize: BATCH_SIZE,
        pauseMs: PAUSE_MS,
        // One table's failure (past the query deadline, say) leaves it for the next run, not the tables after it.
        // An outage or contention ends the run (one warning below, not one a table); anything else (a statement past
        // the query deadline) leaves that table for the next run.
        onTableError: (table, error) => {
          if (dependencyUnreachable(error) || transactionContended(error)) throw error;
          if (!this.stop.signal.aborted) logger.warn({ table, err: error }, 'purge: a table failed; left for the next run');
        },
      });
      if (!this.stop.signal.aborted) await pruneKeys();
      const deleted = Object.values(counts).reduce((sum, n) => sum + n, 0);
      if (deleted > 0) logger.info({ purged: counts }, 'purge: rows past retention deleted');
      return counts;
    } catch (error) {
      if (!this.stop.signal.aborted) logger.warn({ err: error }, 'purge: failed; tried again at the next interval');
      return null;
    }
  }

  async close(): Promise<void> {
    this.stop.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stop.signal.aborted) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.runOnce().then(() => {
        this.running = null;
        this.schedule(this.settings.intervalMs * (0.9 + 0.2 * this.random()));
      });
    }, delayMs);
    this.timer.unref();
  }
}
