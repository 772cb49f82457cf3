import { ServiceClient, type ServiceClientState } from '@domain/client/service-client';
import type { ServiceClientRepository } from '@domain/client/service-client.repository';
import { InMemoryDatabase } from './in-memory-database';

const USE_RESOLUTION_MS = 60_000;

/**
 * The port's semantics in memory: unique ids, soft deletion, compare-and-set of the secret, copies in and out (no
 * shared mutable state). The rows live in the database's `clients` table, so a unit of work that throws takes its
 * client changes back too.
 */
export class InMemoryServiceClientRepository implements ServiceClientRepository {
  constructor(private readonly db: InMemoryDatabase = new InMemoryDatabase()) {}

  /** Read on every call: a rolled-back transaction replaces the tables. */
  private get rows(): Map<string, ServiceClientState> {
    return this.db.tables.clients;
  }

  async add(client: ServiceClient): Promise<void> {
    if (this.rows.has(client.id)) throw new Error(`duplicate key value violates unique constraint "clients_pkey"`);
    this.rows.set(client.id, client.toState());
  }

  async findById(id: string): Promise<ServiceClient | null> {
    const row = this.rows.get(id);
    return row ? ServiceClient.restore(structuredClone(row)) : null;
  }

  async listActive(): Promise<ServiceClient[]> {
    return [...this.rows.values()]
      .filter((row) => row.deletedAt === null)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((row) => ServiceClient.restore(structuredClone(row)));
  }

  async delete(id: string, now: Date): Promise<boolean> {
    const row = this.rows.get(id);
    if (!row || row.deletedAt !== null) return false;
    row.deletedAt = new Date(now.getTime());
    return true;
  }

  async replaceSecret(rotated: ServiceClient, expectedHash: string): Promise<boolean> {
    const row = this.rows.get(rotated.id);
    if (!row || row.deletedAt !== null || row.secretHash !== expectedHash) return false;
    row.secretHash = rotated.secretHash;
    row.tokensValidAfter = rotated.tokensValidAfter === null ? null : new Date(rotated.tokensValidAfter.getTime());
    return true;
  }

  async recordUse(id: string, now: Date): Promise<void> {
    const row = this.rows.get(id);
    if (!row || row.deletedAt !== null) return;
    if (row.lastUsedAt === null || row.lastUsedAt.getTime() <= now.getTime() - USE_RESOLUTION_MS) row.lastUsedAt = new Date(now.getTime());
  }
}
