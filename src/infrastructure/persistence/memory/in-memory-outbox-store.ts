import type { IntegrationEvent, PublishReport } from '@application/ports/event-publisher';
import type { BatchOutcome, OutboxStore, PendingStats } from '../../messaging/outbox-store';
import type { InMemoryDatabase, OutboxRow } from './in-memory-database';

/**
 * The outbox of the in-memory database with the same claim semantics: rows claimed by a running batch are
 * skipped by other relays until it finishes. Attempts and errors are kept beside the rows (the unit tests read them).
 */
export class InMemoryOutboxStore implements OutboxStore {
  private readonly claimed = new Set<string>();
  readonly attempts = new Map<string, { count: number; lastError: string | null }>();

  constructor(private readonly db: InMemoryDatabase) {}

  async processBatch(limit: number, now: Date, publish: (events: IntegrationEvent[]) => Promise<PublishReport>): Promise<BatchOutcome> {
    const rows = this.pendingRows().filter((row) => !this.claimed.has(row.event.id)).slice(0, limit);
    if (rows.length === 0) return { claimed: 0, published: 0 };
    const ids = rows.map((row) => row.event.id);
    ids.forEach((id) => this.claimed.add(id));
    try {
      const report = await publish(rows.map((row) => structuredClone(row.event)));
      const confirmed = new Set(report.confirmed);
      // Re-read: a unit of work that rolled back in the meantime replaced the table's arrays.
      for (const row of this.db.tables.outbox) if (confirmed.has(row.event.id)) row.publishedAt = now;
      for (const id of report.confirmed) this.count(id, null);
      for (const failure of report.failed) this.count(failure.id, failure.error);
      return { claimed: rows.length, published: confirmed.size };
    } finally {
      ids.forEach((id) => this.claimed.delete(id));
    }
  }

  async pendingStats(): Promise<PendingStats> {
    const pending = this.pendingRows();
    return { pending: pending.length, oldestCreatedAt: pending[0]?.createdAt ?? null };
  }

  async purgePublished(before: Date): Promise<number> {
    const keep = this.db.tables.outbox.filter((row) => row.publishedAt === null || row.publishedAt >= before);
    const purged = this.db.tables.outbox.length - keep.length;
    this.db.tables.outbox = keep;
    return purged;
  }

  async purgeProcessed(before: Date): Promise<number> {
    let purged = 0;
    for (const [key, processedAt] of this.db.tables.processedEvents) {
      if (processedAt < before) {
        this.db.tables.processedEvents.delete(key);
        purged += 1;
      }
    }
    return purged;
  }

  private pendingRows(): OutboxRow[] {
    return this.db.tables.outbox
      .filter((row) => row.publishedAt === null)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || compare(a.event.id, b.event.id));
  }

  private count(id: string, error: string | null): void {
    const current = this.attempts.get(id)?.count ?? 0;
    this.attempts.set(id, { count: current + 1, lastError: error });
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
