import type { MigrationInterface, QueryRunner } from 'typeorm';
import { trigramIndexIfAvailable } from './trigram';

const TRGM_COLUMNS = ['email', 'username', 'first_name', 'last_name'];

/**
 * Admin API at scale (issue 12): keyset order of the audit listing, sort and period counts on users, and the
 * substring search. The search is `ILIKE '%term%'` over four columns, which a b-tree cannot serve; pg_trgm's
 * GIN indexes can (one per column, OR-ed by a bitmap scan). The extension is optional: where it cannot be
 * created (PGlite without the contrib module, a role without the right) the migration notes it and the search
 * scans the table, still correct. Whether the trigram indexes exist is decided once, here.
 */
export class AdminIndexes1764520000000 implements MigrationInterface {
  name = 'AdminIndexes1764520000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX audit_events_occurred_at_id_idx ON audit_events (occurred_at, id)`);
    await queryRunner.query(`CREATE INDEX users_created_at_idx ON users (created_at)`);
    await queryRunner.query(`CREATE INDEX users_last_login_at_idx ON users (last_login_at)`);
    await queryRunner.query(`DO $$ BEGIN
      CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXCEPTION WHEN OTHERS THEN
      RAISE NOTICE 'pg_trgm is not available (%): the admin user search scans the users table', SQLERRM;
    END $$`);
    for (const c of TRGM_COLUMNS) await queryRunner.query(trigramIndexIfAvailable(`users_${c}_trgm_idx`, 'users', c));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const c of TRGM_COLUMNS) await queryRunner.query(`DROP INDEX IF EXISTS users_${c}_trgm_idx`);
    await queryRunner.query(`DROP INDEX users_last_login_at_idx`);
    await queryRunner.query(`DROP INDEX users_created_at_idx`);
    await queryRunner.query(`DROP INDEX audit_events_occurred_at_id_idx`);
  }
}
