import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `outbox_events.seq`: an identity, so the events of one commit, which share their `created_at` (the use case's
 * `now`), are claimed in the order they were recorded. Until then the tie went by `id`, a random UUID: an invitation
 * with roles (or CLI `create-admin`) published its `auth.user.roles_changed` before its `auth.user.registered` about
 * half the time (an outside review, stop 51). The pending-row index becomes (next_attempt_at, created_at, seq), the
 * claim's `ORDER BY`, so the claim stays a range scan that stops at its limit. Existing rows are numbered in the
 * order the table holds them (the rewrite that adds the column); a sequence value is taken by the INSERT, so it works
 * the same behind PgBouncer in transaction mode and on PGlite.
 */
export class OutboxRecordedOrder1764650000000 implements MigrationInterface {
  name = 'OutboxRecordedOrder1764650000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE outbox_events ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY`);
    await queryRunner.query(`DROP INDEX outbox_events_unpublished_idx`);
    await queryRunner.query(
      `CREATE INDEX outbox_events_unpublished_idx ON outbox_events (next_attempt_at, created_at, seq) WHERE published_at IS NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX outbox_events_unpublished_idx`);
    await queryRunner.query(
      `CREATE INDEX outbox_events_unpublished_idx ON outbox_events (next_attempt_at, created_at, id) WHERE published_at IS NULL`,
    );
    await queryRunner.query(`ALTER TABLE outbox_events DROP COLUMN seq`);
  }
}
