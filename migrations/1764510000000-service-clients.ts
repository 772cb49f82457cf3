import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Service clients of the client-credentials grant (issue 11). `secret_hash` is a keyed digest of a random
 * 256-bit secret, never the secret. Deletion is soft (`deleted_at`): the id is never reused and the client's
 * tokens can be told apart from an unknown client's. Ids are text (what a caller sends in Basic auth is looked
 * up as is, never cast).
 */
export class ServiceClients1764510000000 implements MigrationInterface {
  name = 'ServiceClients1764510000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE clients (
      id text NOT NULL,
      name text NOT NULL,
      secret_hash text NOT NULL,
      scopes text[] NOT NULL,
      created_at timestamptz NOT NULL,
      last_used_at timestamptz NULL,
      deleted_at timestamptz NULL,
      CONSTRAINT clients_pkey PRIMARY KEY (id)
    )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE clients`);
  }
}
