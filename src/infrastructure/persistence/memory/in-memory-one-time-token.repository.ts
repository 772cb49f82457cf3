import type { OneTimeToken, OneTimeTokenPurpose } from '@domain/token/one-time-token';
import type { OneTimeTokenRepository } from '@domain/token/one-time-token.repository';
import type { InMemoryDatabase } from './in-memory-database';

export class InMemoryOneTimeTokenRepository implements OneTimeTokenRepository {
  constructor(private readonly db: InMemoryDatabase) {}

  /** The table's constraints: primary key, unique hash, the user must exist. */
  async add(token: OneTimeToken): Promise<void> {
    if (this.db.tables.oneTimeTokens.has(token.id)) throw new Error('one_time_tokens: duplicate primary key');
    if (!this.db.tables.users.has(token.userId)) throw new Error('one_time_tokens: the user does not exist (foreign key)');
    for (const other of this.db.tables.oneTimeTokens.values()) {
      if (other.tokenHash === token.tokenHash) throw new Error('one_time_tokens.token_hash must be unique');
    }
    this.db.tables.oneTimeTokens.set(token.id, structuredClone(token));
  }

  async findByHash(purpose: OneTimeTokenPurpose, tokenHash: string): Promise<OneTimeToken | null> {
    for (const token of this.db.tables.oneTimeTokens.values()) {
      if (token.purpose === purpose && token.tokenHash === tokenHash) return structuredClone(token);
    }
    return null;
  }

  async consume(id: string, now: Date): Promise<boolean> {
    const token = this.db.tables.oneTimeTokens.get(id);
    if (!token || token.consumedAt !== null || token.expiresAt.getTime() <= now.getTime()) return false;
    this.db.tables.oneTimeTokens.set(id, { ...token, consumedAt: now });
    return true;
  }

  async consumeAllFor(userId: string, purpose: OneTimeTokenPurpose, now: Date): Promise<void> {
    for (const [id, token] of this.db.tables.oneTimeTokens) {
      if (token.userId === userId && token.purpose === purpose && token.consumedAt === null) {
        this.db.tables.oneTimeTokens.set(id, { ...token, consumedAt: now });
      }
    }
  }

  async consumeAllOfUser(userId: string, now: Date): Promise<void> {
    for (const [id, token] of this.db.tables.oneTimeTokens) {
      if (token.userId === userId && token.consumedAt === null) this.db.tables.oneTimeTokens.set(id, { ...token, consumedAt: now });
    }
  }
}
