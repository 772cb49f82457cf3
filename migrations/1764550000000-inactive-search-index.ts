import type { MigrationInterface, QueryRunner } from 'typeorm';
import { USER_SEARCH_TEXT } from './1764540000000-growth-indexes';
import { trigramIndexIfAvailable } from './trigram';

/**
 * The partial index's predicate. The search need not repeat it: PostgreSQL plans the unnamed statement with the
 * bound status and proves that `status = 'suspended'` (or any value but 'active') implies it.
 */
export const INACTIVE_USERS = `status <> 'active'`;

/**
 * Admin search with a status filter (issue 12): operators look for suspended, locked or unverified users by name,
 * and those are few. The full trigram index finds every user whose text matches (50,000 for a common first name
 * at 10^6 users) and the status is then checked row by row; this second trigram index over the same text holds
 * only the users who are not active, so `search + status=suspended` reads those alone. Where pg_trgm is missing
 * (PGlite) nothing is created, as for the full one.
 */
export class InactiveSearchIndex1764550000000 implements MigrationInterface {
  name = 'InactiveSearchIndex1764550000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(trigramIndexIfAvailable('users_inactive_search_trgm_idx', 'users', USER_SEARCH_TEXT, INACTIVE_USERS));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS users_inactive_search_trgm_idx`);
  }
}
