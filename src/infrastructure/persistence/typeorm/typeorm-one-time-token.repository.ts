import type { OneTimeToken, OneTimeTokenPurpose } from '@domain/token/one-time-token';
import type { OneTimeTokenRepository } from '@domain/token/one-time-token.repository';
import { type EntityManager, IsNull, MoreThan } from 'typeorm';
import { toOneTimeToken, toOneTimeTokenRow } from './one-time-token.mapper';
import { OneTimeTokenRecord } from './one-time-token.record';

/** Email-verification, password-reset and MFA-pending tokens, stored hashed. */
export class TypeOrmOneTimeTokenRepository implements OneTimeTokenRepository {
  constructor(private readonly manager: EntityManager) {}

  async add(token: OneTimeToken): Promise<void> {
    await this.manager.insert(OneTimeTokenRecord, toOneTimeTokenRow(token));
  }

  async findByHash(purpose: OneTimeTokenPurpose, tokenHash: string): Promise<OneTimeToken | null> {
    const record = await this.manager.findOneBy(OneTimeTokenRecord, { purpose, tokenHash });
    return record ? toOneTimeToken(record) : null;
  }

  /**
   * One conditional UPDATE: concurrent callers block on the row lock and, once it is released, Postgres
   * re-checks `consumed_at IS NULL` on the new row version, so exactly one of them changes a row. An expired token
   * changes none.
   */
  async consume(id: string, now: Date): Promise<boolean> {
    const result = await this.manager.update(OneTimeTokenRecord, { id, consumedAt: IsNull(), expiresAt: MoreThan(now) }, { consumedAt: now });
    return result.affected === 1;
  }

  async consumeAllFor(userId: string, purpose: OneTimeTokenPurpose, now: Date): Promise<void> {
    await this.manager.update(OneTimeTokenRecord, { userId, purpose, consumedAt: IsNull() }, { consumedAt: now });
  }

  async consumeAllOfUser(userId: string, now: Date): Promise<void> {
    await this.manager.update(OneTimeTokenRecord, { userId, consumedAt: IsNull() }, { consumedAt: now });
  }
}
