import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `outbox_events.next_attempt_at`: when a row the broker refused (nacked, or did not confirm in time) may be claimed
 * again, set by the relay with capped exponential backoff on the row's attempts; '-infinity' for a row never refused
 * (every existing row: due at once). The pending-row index becomes (next_attempt_at, created_at, id): the claim
 * `WHERE published_at IS NULL AND next_attempt_at <= now ORDER BY next_attempt_at, created_at, id LIMIT n` is a range
 * scan of it that stops at the limit and never reads the rows still waiting for their retry time. Until then the
 * claim took the oldest 200 pending rows whatever had happened to them, so refused rows at the head of the outbox held
 * back every event behind them, session revocations included (an outside review, 2026-12-05).
 */
export class OutboxNextAttempt1764630000000 implements MigrationInterface {
  name = 'OutboxNextAttempt1764630000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // A constant default: no table rewrite.
    await queryRunner.query(`ALTER TABLE outbox_events ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT '-infinity'`);
    await queryRunner.query(`DROP INDEX outbox_events_unpublished_idx`);
    await queryRunner.query(
      `CREATE INDEX outbox_events_unpublished_idx ON outbox_events (next_attempt_at, created_at, id) WHERE published_at IS NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX outbox_events_unpublished_idx`);
    await queryRunner.query(`CREATE INDEX outbox_events_unpublished_idx ON outbox_events (created_at) WHERE published_at IS NULL`);
    await queryRunner.query(`ALTER TABLE outbox_events DROP COLUMN next_attempt_at`);
  }
}
