import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `email_outbox.message_failures`: the failed attempts that were about the message (a refusal of its RCPT TO or
 * DATA), counted apart from `attempts` (every claim, relay outages included), so that EMAIL_MAX_ATTEMPTS counts
 * only those. Existing rows start at 0: a row queued during an outage gets its full count once the relay is back.
 */
export class EmailOutboxMessageFailures1764600000000 implements MigrationInterface {
  name = 'EmailOutboxMessageFailures1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE email_outbox ADD COLUMN message_failures int NOT NULL DEFAULT 0`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE email_outbox DROP COLUMN message_failures`);
  }
}
