import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit trail (issue 4). Append-only, no foreign keys: entries about a deleted account stay. Read by
 * subject (a user's history) and by time (the admin listing, purging old entries).
 */
export class AuditEvents1732000000200 implements MigrationInterface {
  name = 'AuditEvents1732000000200';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE audit_events (
      id uuid NOT NULL,
      occurred_at timestamptz NOT NULL,
      type text NOT NULL,
      outcome text NOT NULL,
      actor_id uuid NULL,
      subject_id uuid NULL,
      ip text NULL,
      user_agent text NULL,
      request_id text NULL,
      reason text NULL,
      CONSTRAINT audit_events_pkey PRIMARY KEY (id)
    )`);
    await queryRunner.query(`CREATE INDEX audit_events_subject_id_occurred_at_idx ON audit_events (subject_id, occurred_at)`);
    await queryRunner.query(`CREATE INDEX audit_events_occurred_at_idx ON audit_events (occurred_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE audit_events`);
  }
}
