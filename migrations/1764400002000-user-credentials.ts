import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Credentials keyed by type, for MFA next: `user_credentials` holds one row per user and type (`password` now;
 * `totp` and `recovery_codes` later), its secret in stored form (PHC hash, sealed secret) and the rest as jsonb.
 * The account's failure bookkeeping (failed_attempts, locked_until) is not a credential's: it moves to `users`.
 * The one-per-user `credentials` table goes.
 *
 * Down restores `credentials` from them. An account without a password row (none exist yet) gets the hash `!`,
 * which no password verifies; credential types the old schema has no place for (TOTP, recovery codes) are lost.
 */
export class UserCredentials1764400002000 implements MigrationInterface {
  name = 'UserCredentials1764400002000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE user_credentials (
      user_id uuid NOT NULL,
      type text NOT NULL,
      secret text NULL,
      data jsonb NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      CONSTRAINT user_credentials_pkey PRIMARY KEY (user_id, type),
      CONSTRAINT user_credentials_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
    )`);
    await queryRunner.query(`ALTER TABLE users
      ADD COLUMN failed_attempts integer NOT NULL DEFAULT 0,
      ADD COLUMN locked_until timestamptz NULL`);
    // Dates in data as JSON strings of the same instant (ISO 8601, UTC), as the mapper writes them.
    await queryRunner.query(`INSERT INTO user_credentials (user_id, type, secret, data, created_at, updated_at)
      SELECT user_id, 'password', password_hash,
        jsonb_build_object('changed_at', to_char(password_changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
        password_changed_at, password_changed_at
      FROM credentials`);
    await queryRunner.query(`UPDATE users u SET failed_attempts = c.failed_attempts, locked_until = c.locked_until
      FROM credentials c WHERE c.user_id = u.id`);
    await queryRunner.query(`DROP TABLE credentials`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE credentials (
      user_id uuid NOT NULL,
      password_hash text NOT NULL,
      failed_attempts integer NOT NULL DEFAULT 0,
      locked_until timestamptz NULL,
      password_changed_at timestamptz NOT NULL,
      CONSTRAINT credentials_pkey PRIMARY KEY (user_id),
      CONSTRAINT credentials_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
    )`);
    await queryRunner.query(`INSERT INTO credentials (user_id, password_hash, failed_attempts, locked_until, password_changed_at)
      SELECT u.id, COALESCE(p.secret, '!'), u.failed_attempts, u.locked_until,
        COALESCE((p.data->>'changed_at')::timestamptz, p.created_at, u.created_at)
      FROM users u LEFT JOIN user_credentials p ON p.user_id = u.id AND p.type = 'password'`);
    await queryRunner.query(`ALTER TABLE users DROP COLUMN failed_attempts, DROP COLUMN locked_until`);
    await queryRunner.query(`DROP TABLE user_credentials`);
  }
}
