import type { IntegrationEvent, PublishReport } from '@application/ports/event-publisher';
import type { DataSource } from 'typeorm';
import type { BatchOutcome, OutboxStore, PendingStats, RetrySchedule } from '../../messaging/outbox-store';

const PURGE_CHUNK = 5000;

/**
 * A processed-event record past `$1`, unless its event is still waiting in the outbox: the relay sends such an event
 * again to every queue (one refused it) with no bound on attempts, and a subscriber whose record was purged meanwhile
 * handled it twice, mailing a second notice (until stop 65 the records went at the retention, which may be an hour: a
 * review of retries). By the event's id, not by age: one event stuck for good holds back its own records only. The
 * waiting events are few and read through the outbox's partial index.
 */
export const PROCESSED_PURGE_CONDITION = `processed_at < $1 AND NOT EXISTS (
  SELECT 1 FROM outbox_events o WHERE o.published_at IS NULL AND o.id::text = processed_events.event_id)`;
/** The relay's claim: $1 the limit, $2 now (exported for the index-usage test: no Sort node, the index's order). */
export const CLAIM_OUTBOX_SQL = `SELECT id, type, attempts, payload FROM outbox_events WHERE published_at IS NULL AND next_attempt_at <= $2
         ORDER BY next_attempt_at, created_at, seq LIMIT $1 FOR UPDATE SKIP LOCKED`;

/**
 * The claim is a row lock: `FOR UPDATE SKIP LOCKED` inside a transaction that lasts while the batch is
 * published, so any number of relays share the table without taking the same row, and a relay that dies
 * (connection gone, transaction aborted) leaves its rows pending for the next one. A row the broker refused gets
 * its own retry time (`next_attempt_at`; '-infinity' until then) and is skipped until it comes: until 2026-12-05 the
 * claim always took the oldest pending rows, so refused rows stayed at the head and held back every event behind them
 * (an outside review).
 */
export class TypeOrmOutboxStore implements OutboxStore {
  constructor(private readonly dataSource: DataSource) {}

  processBatch(
    limit: number,
    now: Date,
    publish: (events: IntegrationEvent[]) => Promise<PublishReport>,
    retryAt: RetrySchedule = () => now,
  ): Promise<BatchOutcome> {
    return this.dataSource.transaction(async (manager) => {
      // Served by outbox_events_unpublished_idx (next_attempt_at, created_at, seq) WHERE published_at IS NULL: a range
      // scan from -infinity (never refused) up to now that stops at the limit; rows waiting for their retry time
      // lie beyond `now` and are never read. `seq` (the order of the INSERTs) breaks the ties of one commit, whose
      // events share their created_at: they go out in the order they were recorded (until stop 51 the tie went by
      // id, a random UUID: a `roles_changed` went out before its `registered` half the time; an outside review).
      const rows: { id: string; type: string; attempts: number; payload: IntegrationEvent }[] = await manager.query(CLAIM_OUTBOX_SQL, [limit, now]);
      if (rows.length === 0) return { claimed: 0, published: 0 };
      const report = await publish(rows.map((row) => row.payload));
      if (report.confirmed.length > 0) {
        await manager.query(
          `UPDATE outbox_events SET published_at = $2, attempts = attempts + 1, last_error = NULL WHERE id = ANY($1::uuid[])`,
          [report.confirmed, now],
        );
      }
      const byId = new Map(rows.map((row) => [row.id, row]));
      const failed = report.failed.flatMap((f) => {
        const row = byId.get(f.id);
        return row ? [{ ...f, retryAt: retryAt({ id: f.id, type: row.type, attempts: row.attempts + 1, error: f.error }) }] : [];
      });
      if (failed.length > 0) {
        await manager.query(
          `UPDATE outbox_events o SET attempts = o.attempts + 1, last_error = f.error, next_attempt_at = f.retry_at
           FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS f(id, error, retry_at) WHERE o.id = f.id`,
          [failed.map((f) => f.id), failed.map((f) => f.error), failed.map((f) => f.retryAt)],
        );
      }
      return { claimed: rows.length, published: report.confirmed.length };
    });
  }

  async pendingStats(): Promise<PendingStats> {
    const rows: { pending: string; oldest: Date | null }[] = await this.dataSource.query(
      `SELECT count(*) AS pending, min(created_at) AS oldest FROM outbox_events WHERE published_at IS NULL`,
    );
    return { pending: Number(rows[0]?.pending ?? 0), oldestCreatedAt: rows[0]?.oldest ?? null };
  }

  purgePublished(before: Date, maxRows = Infinity): Promise<number> {
    return this.deleteInChunks(
      `DELETE FROM outbox_events WHERE id IN (
         SELECT id FROM outbox_events WHERE published_at IS NOT NULL AND published_at < $1 LIMIT $2)`,
      before,
      maxRows,
    );
  }

  purgeProcessed(before: Date, maxRows = Infinity): Promise<number> {
    return this.deleteInChunks(
      `DELETE FROM processed_events WHERE (subscriber, event_id) IN (
         SELECT subscriber, event_id FROM processed_events WHERE ${PROCESSED_PURGE_CONDITION} LIMIT $2)`,
      before,
      maxRows,
    );
  }

  /** In chunks, so a large backlog of old rows never holds one long transaction; `maxRows` in all at most. */
  private async deleteInChunks(sql: string, before: Date, maxRows: number): Promise<number> {
    let total = 0;
    while (total < maxRows) {
      const chunk = Math.min(PURGE_CHUNK, maxRows - total);
      const result: unknown = await this.dataSource.query(sql, [before, chunk]);
      const deleted = Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
      total += deleted;
      if (deleted < chunk) break;
    }
    return total;
  }
}
