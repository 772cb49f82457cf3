import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The email queue gives up (issue: hardening, finding 14): after EMAIL_MAX_ATTEMPTS attempts or EMAIL_MAX_AGE a
 * row is marked failed instead of being retried forever. Failed rows stay for inspection (last_error) until
 * purge-expired removes them after the retention, and are never claimed again.
 */
export class EmailOutboxFailed1764400000000 implements MigrationInterface {
  name = 'EmailOutboxFailed1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE email_outbox ADD COLUMN failed_at timestamptz NULL`);
    // The sender looks only for rows neither sent nor failed; failed rows must not crowd its index.
    await queryRunner.query(`DROP INDEX email_outbox_due_idx`);
    await queryRunner.query(
      `CREATE INDEX email_outbox_due_idx ON email_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL`,
    );
    // Counting and purging failed rows.
    await queryRunner.query(`CREATE INDEX email_outbox_failed_at_idx ON email_outbox (failed_at) WHERE failed_at IS NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX email_outbox_failed_at_idx`);
    await queryRunner.query(`DROP INDEX email_outbox_due_idx`);
    await queryRunner.query(`CREATE INDEX email_outbox_due_idx ON email_outbox (next_attempt_at) WHERE sent_at IS NULL`);
    await queryRunner.query(`ALTER TABLE email_outbox DROP COLUMN failed_at`);
  }
}
