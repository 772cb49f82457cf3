import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `sessions_user_live_idx`: an account's live sessions newest first, for SESSION_MAX_PER_USER's check after every
 * sign-in (`… WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC, id ASC OFFSET
 * $3 LIMIT 1`) and for the sessions list. With `sessions_user_id_idx` alone PostgreSQL read and sorted every row of
 * the account, revoked ones included (kept until the purge, a week after they end), and an account at the limit
 * gains a revoked row per sign-in (a review, 2026-12-07). The partial index holds only unrevoked rows, in the order
 * the queries ask, so the check reads at most N+1 entries. `sessions_user_id_idx` stays: the cascade from users and
 * the revocations of recently expired sessions read by user_id alone.
 * On a large existing database the build holds writes to sessions (every sign-in, refresh and sign-out) until it ends;
 * build it CONCURRENTLY by hand beforehand to avoid that, and IF NOT EXISTS then skips it (until an outside review,
 * 2026-12-08, it had no IF NOT EXISTS, so the migration failed on an index built beforehand).
 */
export class SessionsLiveByUser1764680000000 implements MigrationInterface {
  name = 'SessionsLiveByUser1764680000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX IF NOT EXISTS sessions_user_live_idx ON sessions (user_id, created_at DESC, id) WHERE revoked_at IS NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS sessions_user_live_idx`);
  }
}
