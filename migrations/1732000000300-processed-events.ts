import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Subscribers de-duplicate deliveries by event id: one row per (subscriber, event) they processed, inserted in
 * the transaction of the subscriber's own writes. Event ids are text: CloudEvents ids need not be uuids.
 */
export class ProcessedEvents1732000000300 implements MigrationInterface {
  name = 'ProcessedEvents1732000000300';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE processed_events (
      subscriber text NOT NULL,
      event_id text NOT NULL,
      processed_at timestamptz NOT NULL,
      CONSTRAINT processed_events_pkey PRIMARY KEY (subscriber, event_id)
    )`);
    // Rows are purged after the retention period, oldest first.
    await queryRunner.query(`CREATE INDEX processed_events_processed_at_idx ON processed_events (processed_at)`);
    // The relay purges published rows by publication time.
    await queryRunner.query(
      `CREATE INDEX outbox_events_published_at_idx ON outbox_events (published_at) WHERE published_at IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX outbox_events_published_at_idx`);
    await queryRunner.query(`DROP TABLE processed_events`);
  }
}
