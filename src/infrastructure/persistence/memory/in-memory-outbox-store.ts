import type { IntegrationEvent, PublishReport } from '@application/ports/event-publisher';
import type { BatchOutcome, OutboxStore, PendingStats, RetrySchedule } from '../../messaging/outbox-store';
import type { InMemoryDatabase, OutboxRow } from './in-memory-database';

/**
 * The outbox of the in-memory database with the same claim semantics: rows claimed by a running batch are
 * skipped by other relays until it finishes, and so are refused rows until their retry time (`next_attempt_at` of
 * the SQL table). Attempts, errors and retry times are kept beside the rows (the unit tests read them).
 */
export class InMemoryOutboxStore implements OutboxStore {
  private readonly claimed = new Set<string>();
  readonly attempts = new Map<string, { count: number; lastError: string | null }>();
  /** Event id -> when it is due again; absent for an event never refused (due at once). */
  readonly retryAt = new Map<string, Date>();

  constructor(private readonly db: InMemoryDatabase) {}

  async processBatch(
    limit: number,
    now: Date,
    publish: (events: IntegrationEvent[]) => Promise<PublishReport>,
    retryAt: RetrySchedule = () => now,
  ): Promise<BatchOutcome> {
    // The SQL claim's order: never refused first (oldest first, then as recorded), then due retries (earliest retry
    // time first); the sorts are stable.
    const rows = this.pendingRows()
      .filter((row) => !this.claimed.has(row.event.id) && this.dueAt(row) <= now.getTime())
      .sort((a, b) => compare(this.dueAt(a), this.dueAt(b)))
      .slice(0, limit);
    if (rows.length === 0) return { claimed: 0, published: 0 };
    const ids = rows.map((row) => row.event.id);
    ids.forEach((id) => this.claimed.add(id));
    try {
      const report = await publish(rows.map((row) => structuredClone(row.event)));
      const confirmed = new Set(report.confirmed);
      // Re-read: a unit of work that rolled back in the meantime replaced the table's arrays.
      for (const row of this.db.tables.outbox) if (confirmed.has(row.event.id)) row.publishedAt = now;
      for (const id of report.confirmed) this.count(id, null);
      const types = new Map(rows.map((row) => [row.event.id, row.event.type]));
      for (const failure of report.failed) {
        const type = types.get(failure.id);
        if (type === undefined) continue;
        this.count(failure.id, failure.error);
        this.retryAt.set(failure.id, retryAt({ id: failure.id, type, attempts: this.attempts.get(failure.id)!.count, error: failure.error }));
      }
      return { claimed: rows.length, published: confirmed.size };
    } finally {
      ids.forEach((id) => this.claimed.delete(id));
    }
  }

  async pendingStats(): Promise<PendingStats> {
    const pending = this.pendingRows();
    return { pending: pending.length, oldestCreatedAt: pending[0]?.createdAt ?? null };
  }

  async purgePublished(before: Date, maxRows = Infinity): Promise<number> {
    let purged = 0;
    const keep = this.db.tables.outbox.filter((row) => {
      if (purged >= maxRows || row.publishedAt === null || row.publishedAt >= before) return true;
      purged += 1;
      return false;
    });
    this.db.tables.outbox = keep;
    return purged;
  }

  /** As the SQL store's: never a record of an event still waiting in the outbox (PROCESSED_PURGE_CONDITION). */
  async purgeProcessed(before: Date, maxRows = Infinity): Promise<number> {
    const waiting = new Set(this.db.tables.outbox.filter((row) => row.publishedAt === null).map((row) => row.event.id));
    let purged = 0;
    for (const [key, processedAt] of this.db.tables.processedEvents) {
      if (purged >= maxRows) break;
      if (processedAt < before && !waiting.has(key.slice(key.indexOf('\n') + 1))) {
        this.db.tables.processedEvents.delete(key);
        purged += 1;
      }
    }
    return purged;
  }

  /**
   * Pending rows, oldest first (created_at), then in the order they were recorded: the table is an array appended
   * to in that order and the sort is stable (the SQL table's `seq`).
   */
  private pendingRows(): OutboxRow[] {
    return this.db.tables.outbox.filter((row) => row.publishedAt === null).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  /** The row's retry time in ms, -Infinity while never refused. */
  private dueAt(row: OutboxRow): number {
    return this.retryAt.get(row.event.id)?.getTime() ?? -Infinity;
  }

  private count(id: string, error: string | null): void {
    const current = this.attempts.get(id)?.count ?? 0;
    this.attempts.set(id, { count: current + 1, lastError: error });
  }
}

function compare<T extends string | number>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
