import type { MigrationInterface, QueryRunner } from 'typeorm';
import { trigramIndexIfAvailable } from './trigram';

/**
 * The admin search's text, one expression over the four searched columns (the TypeORM user directory repeats it
 * word for word: the planner matches an expression index by its expression). Its trigram index is a necessary
 * condition only; the directory rechecks each column, so a term never matches across two of them.
 */
export const USER_SEARCH_TEXT = `(email || ' ' || coalesce(username, '') || ' ' || coalesce(first_name, '') || ' ' || coalesce(last_name, ''))`;
const OLD_TRGM_COLUMNS = ['email', 'username', 'first_name', 'last_name'];

/**
 * Growth to 10^6 users and 10^7 audit rows (issues 12 and 13):
 * - one trigram GIN index over the users' search text replaces the four per-column ones, so a search is one
 *   bitmap index scan rather than four OR-ed (where pg_trgm exists; PGlite scans, as before);
 * - the listing's sort orders are index orders, id (the tie-break) included: (created_at, id), and for
 *   last_login_at, never-logged-in users last in both directions, (last_login_at, id) and
 *   (last_login_at DESC NULLS LAST, id DESC); email is unique and already indexed;
 * - a user's audit history by the keyset (subject_id, occurred_at, id); (occurred_at) alone is covered by
 *   (occurred_at, id);
 * - the purge job finds what is past its end by index, in batches: sessions and one-time tokens by the earlier
 *   of their end and their revocation / consumption.
 * On a large existing database this locks users, sessions and audit_events for writes while the indexes build
 * (a few seconds to minutes at 10^6-10^7 rows); build them CONCURRENTLY by hand beforehand to avoid it (the
 * IF NOT EXISTS below then skips them).
 */
export class GrowthIndexes1764540000000 implements MigrationInterface {
  name = 'GrowthIndexes1764540000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(trigramIndexIfAvailable('users_search_trgm_idx', 'users', USER_SEARCH_TEXT));
    for (const c of OLD_TRGM_COLUMNS) await queryRunner.query(`DROP INDEX IF EXISTS users_${c}_trgm_idx`);
    await queryRunner.query(`CREATE INDEX IF NOT EXISTS users_created_at_id_idx ON users (created_at, id)`);
    await queryRunner.query(`DROP INDEX IF EXISTS users_created_at_idx`);
    await queryRunner.query(`CREATE INDEX IF NOT EXISTS users_last_login_at_id_idx ON users (last_login_at, id)`);
    await queryRunner.query(`CREATE INDEX IF NOT EXISTS users_last_login_at_desc_id_idx ON users (last_login_at DESC NULLS LAST, id DESC)`);
    await queryRunner.query(`DROP INDEX IF EXISTS users_last_login_at_idx`);
    await queryRunner.query(`CREATE INDEX IF NOT EXISTS audit_events_subject_id_occurred_at_id_idx ON audit_events (subject_id, occurred_at, id)`);
    await queryRunner.query(`DROP INDEX IF EXISTS audit_events_subject_id_occurred_at_idx`);
    await queryRunner.query(`DROP INDEX IF EXISTS audit_events_occurred_at_idx`);
    await queryRunner.query(`CREATE INDEX IF NOT EXISTS sessions_purge_at_idx ON sessions ((${SESSION_PURGE_AT}))`);
    await queryRunner.query(`CREATE INDEX IF NOT EXISTS one_time_tokens_purge_at_idx ON one_time_tokens ((${TOKEN_PURGE_AT}))`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS one_time_tokens_purge_at_idx`);
    await queryRunner.query(`DROP INDEX IF EXISTS sessions_purge_at_idx`);
    await queryRunner.query(`CREATE INDEX IF NOT EXISTS audit_events_occurred_at_idx ON audit_events (occurred_at)`);
    await queryRunner.query(`CREATE INDEX IF NOT EXISTS audit_events_subject_id_occurred_at_idx ON audit_events (subject_id, occurred_at)`);
    await queryRunner.query(`DROP INDEX IF EXISTS audit_events_subject_id_occurred_at_id_idx`);
    await queryRunner.query(`CREATE INDEX IF NOT EXISTS users_last_login_at_idx ON users (last_login_at)`);
    await queryRunner.query(`DROP INDEX IF EXISTS users_last_login_at_desc_id_idx`);
    await queryRunner.query(`DROP INDEX IF EXISTS users_last_login_at_id_idx`);
    await queryRunner.query(`CREATE INDEX IF NOT EXISTS users_created_at_idx ON users (created_at)`);
    await queryRunner.query(`DROP INDEX IF EXISTS users_created_at_id_idx`);
    for (const c of OLD_TRGM_COLUMNS) await queryRunner.query(trigramIndexIfAvailable(`users_${c}_trgm_idx`, 'users', c));
    await queryRunner.query(`DROP INDEX IF EXISTS users_search_trgm_idx`);
  }
}

/** When a session stops being worth keeping: its end or its revocation, whichever is first (the purge's key). */
export const SESSION_PURGE_AT = `LEAST(expires_at, COALESCE(revoked_at, 'infinity'::timestamptz))`;
/** When a one-time token is done: its expiry or its use, whichever is first. */
export const TOKEN_PURGE_AT = `LEAST(expires_at, COALESCE(consumed_at, 'infinity'::timestamptz))`;
