import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Account lifecycle (issue 3): the durable email queue, and the address a user asked to change to (not usable
 * to log in until confirmed). The bodies of queued emails carry tokens, so they are stored sealed (AES-256-GCM).
 */
export class EmailOutbox1732000000100 implements MigrationInterface {
  name = 'EmailOutbox1732000000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE email_outbox (
      id uuid NOT NULL,
      recipient text NOT NULL,
      subject text NOT NULL,
      sealed_text text NOT NULL,
      sealed_html text NOT NULL,
      created_at timestamptz NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL,
      locked_until timestamptz NULL,
      claim_id uuid NULL,
      sent_at timestamptz NULL,
      last_error text NULL,
      CONSTRAINT email_outbox_pkey PRIMARY KEY (id)
    )`);
    // The sender only ever looks for unsent rows that are due; purging looks for old sent ones.
    await queryRunner.query(`CREATE INDEX email_outbox_due_idx ON email_outbox (next_attempt_at) WHERE sent_at IS NULL`);
    await queryRunner.query(`CREATE INDEX email_outbox_sent_at_idx ON email_outbox (sent_at) WHERE sent_at IS NOT NULL`);
    await queryRunner.query(`ALTER TABLE users ADD COLUMN pending_email text NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE users DROP COLUMN pending_email`);
    await queryRunner.query(`DROP TABLE email_outbox`);
  }
}
