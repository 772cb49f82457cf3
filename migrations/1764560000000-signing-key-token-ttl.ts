import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The longest access-token lifetime any signer declared for a key (outside review, 2026-11-30). A retired key was
 * kept for the pruning process's own ACCESS_TOKEN_TTL: `ACCESS_TOKEN_TTL=60s cli rotate-keys` deleted a key whose
 * 15-minute tokens were still valid. Each signer now records its TTL on the key before it signs with it, and a
 * retired key stays published until `retired_at` plus that (plus skew). Existing rows get NULL: nobody recorded
 * what their signers used, and the service counts NULL as the longest TTL the configuration allows.
 */
export class SigningKeyTokenTtl1764560000000 implements MigrationInterface {
  name = 'SigningKeyTokenTtl1764560000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE signing_keys ADD COLUMN max_token_ttl_seconds integer NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE signing_keys DROP COLUMN max_token_ttl_seconds`);
  }
}
