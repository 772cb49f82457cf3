import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The sealed bodies of an email are dropped once it is sent (an outside review, 2026-12-08): they carry its links,
 * and a sent row stays until the purge (EMAIL_RETENTION, 7 days), so a copy of the database with ENCRYPTION_KEY opened
 * every link still live (an invitation's 72 h, a verification's 24 h). The columns become nullable; sending sets them
 * NULL. Rows sent before this migration keep theirs until the purge takes them: rewriting a week of sent mail here
 * would hold the queue's table in one long transaction.
 */
export class EmailBodiesDroppedWhenSent1764690000000 implements MigrationInterface {
  name = 'EmailBodiesDroppedWhenSent1764690000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE email_outbox ALTER COLUMN sealed_text DROP NOT NULL, ALTER COLUMN sealed_html DROP NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`UPDATE email_outbox SET sealed_text = '', sealed_html = '' WHERE sealed_text IS NULL OR sealed_html IS NULL`);
    await queryRunner.query(`ALTER TABLE email_outbox ALTER COLUMN sealed_text SET NOT NULL, ALTER COLUMN sealed_html SET NOT NULL`);
  }
}
