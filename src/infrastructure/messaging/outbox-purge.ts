import type { Logger } from '@application/ports/logger';
import type { OutboxRelayOptions } from './outbox-relay-options';
import type { OutboxStore } from './outbox-store';

/** A purge under way: its cutoff, the table it is at, and the rows it deleted so far. */
interface PurgeRun {
  cutoff: Date;
  table: 'outbox' | 'processed';
  published: number;
  processed: number;
}

/**
 * The relay's purge of rows past retention (OutboxRelay.housekeeping): when due, a purge starts, and each round
 * deletes one slice of it (at most `purgeRowsPerRound` rows) until it is done.
 */
export class OutboxPurge {
  private nextPurgeAt = 0;
  /** The purge under way (between rounds), if any. */
  private purge: PurgeRun | null = null;

  constructor(
    private readonly store: Pick<OutboxStore, 'purgePublished' | 'purgeProcessed'>,
    private readonly logger: Logger,
    private readonly options: Pick<OutboxRelayOptions, 'retentionMs' | 'purgeIntervalMs' | 'purgeRowsPerRound'>,
  ) {}

  /** Whether a purge is under way (more slices to delete). */
  get running(): boolean {
    return this.purge !== null;
  }

  /** Starts a purge when due, then deletes one slice of the purge under way, if any. */
  async round(now: number): Promise<void> {
    if (this.purge === null && now >= this.nextPurgeAt) {
      this.nextPurgeAt = now + this.options.purgeIntervalMs;
      this.purge = { cutoff: new Date(now - this.options.retentionMs), table: 'outbox', published: 0, processed: 0 };
    }
    if (this.purge !== null) await this.slice(this.purge);
  }

  /**
   * One slice: at most `purgeRowsPerRound` published events, and when those are done (the slice was not full) at
   * most as many processed-event records. A failure ends the purge until the next interval.
   */
  private async slice(purge: PurgeRun): Promise<void> {
    const max = this.options.purgeRowsPerRound;
    try {
      if (purge.table === 'outbox') {
        const deleted = await this.store.purgePublished(purge.cutoff, max);
        purge.published += deleted;
        if (deleted >= max) return;
        purge.table = 'processed';
      }
      const deleted = await this.store.purgeProcessed(purge.cutoff, max);
      purge.processed += deleted;
      if (deleted >= max) return;
    } catch (error) {
      this.purge = null;
      throw error;
    }
    this.purge = null;
    if (purge.published + purge.processed > 0) {
      this.logger.info({ purged: purge.published, processed_records: purge.processed }, 'outbox: rows past retention purged');
    }
  }
}
