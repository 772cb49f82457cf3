import type { EntityManager } from 'typeorm';
import { ServiceClient } from '@domain/client/service-client';
import type { ServiceClientRepository } from '@domain/client/service-client.repository';
import { ServiceClientRecord } from './service-client.record';

/**
 * Ids are text and only printable ASCII is looked up: whatever else a caller presents as a client id (a NUL
 * byte PostgreSQL refuses, megabytes) is a plain miss, never a database error.
 */
const PLAIN_ID = /^[\x21-\x7e]{1,200}$/;
/** recordUse writes at most this often per client. */
const USE_RESOLUTION_MS = 60_000;

export class TypeOrmServiceClientRepository implements ServiceClientRepository {
  constructor(private readonly manager: EntityManager) {}

  async add(client: ServiceClient): Promise<void> {
    await this.manager.insert(ServiceClientRecord, { ...client.toState() });
  }

  async findById(id: string): Promise<ServiceClient | null> {
    if (!PLAIN_ID.test(id)) return null;
    const row = await this.manager.findOneBy(ServiceClientRecord, { id });
    return row ? toClient(row) : null;
  }

  async listActive(): Promise<ServiceClient[]> {
    const rows = await this.manager
      .createQueryBuilder(ServiceClientRecord, 'c')
      .where('c.deleted_at IS NULL')
      .orderBy('c.created_at', 'ASC')
      .addOrderBy('c.id', 'ASC')
      .getMany();
    return rows.map(toClient);
  }

  async delete(id: string, now: Date): Promise<boolean> {
    if (!PLAIN_ID.test(id)) return false;
    const result = await this.manager
      .createQueryBuilder()
      .update(ServiceClientRecord)
      .set({ deletedAt: now })
      .where('id = :id AND deleted_at IS NULL', { id })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  async replaceSecret(rotated: ServiceClient, expectedHash: string): Promise<boolean> {
    if (!PLAIN_ID.test(rotated.id)) return false;
    // Under READ COMMITTED a second UPDATE of the row waits for the first to commit and then re-checks its WHERE on
    // the new row: the digest it expects is gone, so it changes nothing.
    const result = await this.manager
      .createQueryBuilder()
      .update(ServiceClientRecord)
      .set({ secretHash: rotated.secretHash, tokensValidAfter: rotated.tokensValidAfter })
      .where('id = :id AND deleted_at IS NULL AND secret_hash = :expectedHash', { id: rotated.id, expectedHash })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  async recordUse(id: string, now: Date): Promise<void> {
    await this.manager
      .createQueryBuilder()
      .update(ServiceClientRecord)
      .set({ lastUsedAt: now })
      .where('id = :id AND deleted_at IS NULL AND (last_used_at IS NULL OR last_used_at <= :before)', {
        id,
        before: new Date(now.getTime() - USE_RESOLUTION_MS),
      })
      .execute();
  }
}

function toClient(row: ServiceClientRecord): ServiceClient {
  return ServiceClient.restore({
    id: row.id,
    name: row.name,
    secretHash: row.secretHash,
    scopes: [...row.scopes],
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    deletedAt: row.deletedAt,
    tokensValidAfter: row.tokensValidAfter,
  });
}
