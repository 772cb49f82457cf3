import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `rotate-client-secret --revoke-tokens`: the instant up to the end of whose second a client's tokens stop
 * introspecting as active (tokens issued in that second or earlier). Existing rows get NULL: no cut-off, their
 * tokens live until they expire, as before.
 */
export class ClientTokensValidAfter1764580000000 implements MigrationInterface {
  name = 'ClientTokensValidAfter1764580000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE clients ADD COLUMN tokens_valid_after timestamptz NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE clients DROP COLUMN tokens_valid_after`);
  }
}
