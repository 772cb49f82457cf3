import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `account_requests.failures`: the failed attempts that were the request's own, counted apart from `attempts` (every
 * claim, outages included), so that the worker's 10-attempt limit counts only those. Until stop 48 the worker kept
 * its outage counts in memory: a restart, or another instance claiming the request, forgot them, and a request that
 * had waited out an outage was given up at its first failure of its own. Existing rows start at 0.
 */
export class AccountRequestFailures1764620000000 implements MigrationInterface {
  name = 'AccountRequestFailures1764620000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE account_requests ADD COLUMN failures int NOT NULL DEFAULT 0`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE account_requests DROP COLUMN failures`);
  }
}
