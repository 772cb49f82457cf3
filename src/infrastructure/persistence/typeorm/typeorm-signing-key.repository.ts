import type { SigningAlgorithm, SigningKeyRecord, SigningKeyRepository } from '@application/ports/signing-keys';
import type { EntityManager } from 'typeorm';
import { SigningKeyRow } from './signing-key.record';

/**
 * What an update by kid overwrites: the status and its times only. A kid's key material (alg, public JWK, sealed
 * private key, creation time) never changes by a save; `max_token_ttl_seconds` only rises (declareTokenTtl), and the
 * sealed key is rewritten only by `reseal` (under the current ENCRYPTION_KEY). Until stop 48 an update wrote the whole
 * row as listed, so a rotation racing `reseal` put back the ciphertext under the old key after reseal had reported it
 * done, and the service did not start once the old key was dropped (an outside review).
 */
const UPDATED_BY_SAVE = ['status', 'activated_at', 'retired_at'];

/** Signing keys for access tokens; the private part arrives sealed and is stored as is. */
export class TypeOrmSigningKeyRepository implements SigningKeyRepository {
  constructor(private readonly manager: EntityManager) {}

  async list(): Promise<SigningKeyRecord[]> {
    const rows = await this.manager.find(SigningKeyRow, { order: { createdAt: 'ASC', kid: 'ASC' } });
    return rows.map(toSigningKey);
  }

  async save(key: SigningKeyRecord): Promise<void> {
    await this.manager.createQueryBuilder().insert().into(SigningKeyRow).values({ ...key }).orUpdate(UPDATED_BY_SAVE, ['kid']).execute();
  }

  async declareTokenTtl(kid: string, seconds: number): Promise<void> {
    // `NULL < $2` is not true: a key of unknown TTL stays unknown (counted as the longest).
    await this.manager
      .createQueryBuilder()
      .update(SigningKeyRow)
      .set({ maxTokenTtlSeconds: seconds })
      .where('kid = :kid AND max_token_ttl_seconds < :seconds', { kid, seconds })
      .execute();
  }

  async delete(kid: string): Promise<void> {
    await this.manager.delete(SigningKeyRow, { kid });
  }
}

function toSigningKey(row: SigningKeyRow): SigningKeyRecord {
  return {
    kid: row.kid,
    alg: row.alg as SigningAlgorithm,
    publicJwk: row.publicJwk,
    sealedPrivateKey: row.sealedPrivateKey,
    status: row.status as SigningKeyRecord['status'],
    createdAt: row.createdAt,
    activatedAt: row.activatedAt,
    retiredAt: row.retiredAt,
    maxTokenTtlSeconds: row.maxTokenTtlSeconds,
  };
}
