import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Two indexes an outside review (2026-12-02) found missing at 10^6 users and 10^7 audit rows:
 * - the active admins, which every admin change locks first (`lockActiveAdmins`): a partial index whose predicate
 *   is the query's, so the lock reads the few admin rows instead of scanning every user;
 * - the audit log by type (`GET /admin/audit-events?type=`), in the listing's keyset order: without it a rare type
 *   walked the whole (occurred_at, id) index.
 * On a large existing database the audit index locks audit_events for writes while it builds (seconds to a minute
 * at 10^7 rows); build it CONCURRENTLY by hand beforehand to avoid that (IF NOT EXISTS then skips it).
 */
export class AdminSetAndAuditTypeIndexes1764590000000 implements MigrationInterface {
  name = 'AdminSetAndAuditTypeIndexes1764590000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX IF NOT EXISTS users_active_admins_idx ON users (id) WHERE status = 'active' AND 'admin' = ANY(roles)`);
    await queryRunner.query(`CREATE INDEX IF NOT EXISTS audit_events_type_occurred_at_id_idx ON audit_events (type, occurred_at, id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS audit_events_type_occurred_at_id_idx`);
    await queryRunner.query(`DROP INDEX IF EXISTS users_active_admins_idx`);
  }
}
