import type { IntegrationEvent, PublishReport } from '@application/ports/event-publisher';
import type { DataSource } from 'typeorm';
import type { BatchOutcome, OutboxStore, PendingStats } from '../../messaging/outbox-store';

const PURGE_CHUNK = 5000;

/**
 * The claim is a row lock: `FOR UPDATE SKIP LOCKED` inside a transaction that lasts while the batch is
 * published, so any number of relays share the table without taking the same row, and a relay that dies
 * (connection gone, transaction aborted) leaves its rows pending for the next one.
 */
export class TypeOrmOutboxStore implements OutboxStore {
  constructor(private readonly dataSource: DataSource) {}

  processBatch(limit: number, now: Date, publish: (events: IntegrationEvent[]) => Promise<PublishReport>): Promise<BatchOutcome> {
    return this.dataSource.transaction(async (manager) => {
      const rows: { payload: IntegrationEvent }[] = await manager.query(
        `SELECT payload FROM outbox_events WHERE published_at IS NULL
         ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      if (rows.length === 0) return { claimed: 0, published: 0 };
      const report = await publish(rows.map((row) => row.payload));
      if (report.confirmed.length > 0) {
        await manager.query(
          `UPDATE outbox_events SET published_at = $2, attempts = attempts + 1, last_error = NULL WHERE id = ANY($1::uuid[])`,
          [report.confirmed, now],
        );
      }
      if (report.failed.length > 0) {
        await manager.query(
          `UPDATE outbox_events o SET attempts = o.attempts + 1, last_error = f.error
           FROM unnest($1::uuid[], $2::text[]) AS f(id, error) WHERE o.id = f.id`,
          [report.failed.map((f) => f.id), report.failed.map((f) => f.error)],
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

  purgePublished(before: Date): Promise<number> {
    return this.deleteInChunks(
      `DELETE FROM outbox_events WHERE id IN (
         SELECT id FROM outbox_events WHERE published_at IS NOT NULL AND published_at < $1 LIMIT ${PURGE_CHUNK})`,
      before,
    );
  }

  purgeProcessed(before: Date): Promise<number> {
    return this.deleteInChunks(
      `DELETE FROM processed_events WHERE (subscriber, event_id) IN (
         SELECT subscriber, event_id FROM processed_events WHERE processed_at < $1 LIMIT ${PURGE_CHUNK})`,
      before,
    );
  }

  /** In chunks, so a large backlog of old rows never holds one long transaction. */
  private async deleteInChunks(sql: string, before: Date): Promise<number> {
    let total = 0;
    for (;;) {
      const result: unknown = await this.dataSource.query(sql, [before]);
      const deleted = Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
      total += deleted;
      if (deleted < PURGE_CHUNK) return total;
    }
  }
}
