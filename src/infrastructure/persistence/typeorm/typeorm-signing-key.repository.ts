import type { SigningAlgorithm, SigningKeyRecord, SigningKeyRepository } from '@application/ports/signing-keys';
import type { EntityManager } from 'typeorm';
import { SigningKeyRow } from './signing-key.record';

/** Signing keys for access tokens; the private part arrives sealed and is stored as is. */
export class TypeOrmSigningKeyRepository implements SigningKeyRepository {
  constructor(private readonly manager: EntityManager) {}

  async list(): Promise<SigningKeyRecord[]> {
    const rows = await this.manager.find(SigningKeyRow, { order: { createdAt: 'ASC', kid: 'ASC' } });
    return rows.map(toSigningKey);
  }

  async save(key: SigningKeyRecord): Promise<void> {
    await this.manager.upsert(SigningKeyRow, { ...key }, { conflictPaths: ['kid'] });
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
  };
}
