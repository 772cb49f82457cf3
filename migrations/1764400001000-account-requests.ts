import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Register (with verification), password reset and verification resend only record a request here; a
 * background worker does the per-account work. So the HTTP answer, and how long it takes, is the same whether
 * or not the address has an account. The payload (address, password hash, caller) is sealed (AES-256-GCM) and
 * cleared once processed; a pending registration reserves its username.
 */
export class AccountRequests1764400001000 implements MigrationInterface {
  name = 'AccountRequests1764400001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE account_requests (
      id uuid NOT NULL,
      kind varchar(32) NOT NULL,
      username varchar(32) NULL,
      sealed_payload text NULL,
      created_at timestamptz NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL,
      locked_until timestamptz NULL,
      claim_id uuid NULL,
      processed_at timestamptz NULL,
      last_error text NULL,
      CONSTRAINT account_requests_pkey PRIMARY KEY (id)
    )`);
    await queryRunner.query(`CREATE INDEX account_requests_due_idx ON account_requests (next_attempt_at) WHERE processed_at IS NULL`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX account_requests_pending_username_key ON account_requests (username) WHERE processed_at IS NULL AND username IS NOT NULL`,
    );
    await queryRunner.query(`CREATE INDEX account_requests_processed_at_idx ON account_requests (processed_at) WHERE processed_at IS NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE account_requests`);
  }
}
