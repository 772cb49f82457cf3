import type { Session } from '@domain/session/session';
import type { RefreshTokenMatch, SessionRepository } from '@domain/session/session.repository';
import { type EntityManager, IsNull, MoreThan } from 'typeorm';
import { LockedRows } from '../locked-rows';
import { TypeOrmOutboxWriter } from './outbox-writer';
import { type SessionRows, toSession, toSessionRows } from './session.mapper';
import { selectList } from './raw-select';
import { isUuid } from './uuid';
import { RefreshTokenHistoryRecord, SessionRecord } from './session.record';

/** Sessions and their refresh-token history. Bound to one EntityManager: the transaction's inside a unit of work. */
export class TypeOrmSessionRepository implements SessionRepository {
  private readonly outbox: TypeOrmOutboxWriter;
  private readonly locked = new LockedRows<Session, SessionRows['session']>('sessions');

  constructor(private readonly manager: EntityManager) {
    this.outbox = new TypeOrmOutboxWriter(manager);
  }

  async findById(id: string): Promise<Session | null> {
    if (!isUuid(id)) return null;
    const rows: SessionRecord[] = await this.manager.query(
      `SELECT ${selectList(this.manager, SessionRecord, 's')} FROM sessions s WHERE s.id = $1`,
      [id],
    );
    return rows[0] ? toSession(rows[0]) : null;
  }

  async findByIdForUpdate(id: string): Promise<Session | null> {
    if (!isUuid(id)) return null;
    const record = await this.lockById(id);
    return record ? this.track(toSession(record)) : null;
  }

  /**
   * Must run inside a unit of work (TypeORM refuses a pessimistic lock outside a transaction). Under READ
   * COMMITTED a caller blocked on the row lock gets the row re-checked against the WHERE in its newest
   * version once the lock is granted: a token rotated away meanwhile no longer matches as current, so 20
   * concurrent refreshes of one token see 'current' once and 'previous' (or 'retired') afterwards.
   */
  async findByRefreshTokenHashForUpdate(hash: string): Promise<RefreshTokenMatch | null> {
    const record = await this.manager
      .createQueryBuilder(SessionRecord, 's')
      .where('s.refresh_token_hash = :hash OR s.previous_token_hash = :hash', { hash })
      .setLock('pessimistic_write')
      .getOne();
    if (record) {
      const presented = record.refreshTokenHash === hash ? 'current' : 'previous';
      return { session: this.track(toSession(record)), presented };
    }
    const retired = await this.manager.findOneBy(RefreshTokenHistoryRecord, { tokenHash: hash });
    if (!retired) return null;
    const owner = await this.lockById(retired.sessionId);
    return owner ? { session: this.track(toSession(owner)), presented: 'retired' } : null;
  }

  async findActiveByUser(userId: string, now: Date): Promise<Session[]> {
    const records = await this.manager.find(SessionRecord, {
      where: { userId, revokedAt: IsNull(), expiresAt: MoreThan(now) },
      order: { createdAt: 'DESC', id: 'ASC' },
    });
    return records.map(toSession);
  }

  async findActiveByUserForUpdate(userId: string, now: Date): Promise<Session[]> {
    const records = await this.manager
      .createQueryBuilder(SessionRecord, 's')
      .where('s.user_id = :userId AND s.revoked_at IS NULL AND s.expires_at > :now', { userId, now })
      .orderBy('s.created_at', 'DESC')
      .addOrderBy('s.id', 'ASC')
      .setLock('pessimistic_write')
      .getMany();
    return records.map((record) => this.track(toSession(record)));
  }

  async add(session: Session): Promise<void> {
    const rows = toSessionRows(session);
    await this.manager.insert(SessionRecord, rows.session);
    this.locked.remember(session, rows.session);
    await this.writeHistoryAndEvents(session, rows);
  }

  async save(session: Session): Promise<void> {
    const rows = toSessionRows(session);
    const changes = this.locked.changes(session, rows.session);
    if (Object.keys(changes).length > 0) {
      const result = await this.manager.createQueryBuilder().update(SessionRecord).set(changes).where({ id: session.id }).execute();
      if (result.affected !== 1) throw new Error('sessions: the locked row to update is gone');
    }
    this.locked.remember(session, rows.session);
    await this.writeHistoryAndEvents(session, rows);
  }

  private track(session: Session): Session {
    this.locked.remember(session, toSessionRows(session).session);
    return session;
  }

  private async writeHistoryAndEvents(session: Session, rows: SessionRows): Promise<void> {
    if (rows.retired.length > 0) {
      await this.manager
        .createQueryBuilder()
        .insert()
        .into(RefreshTokenHistoryRecord)
        .values(rows.retired)
        .orIgnore()
        .execute();
    }
    await this.outbox.write(session.pullEvents());
  }

  private lockById(id: string): Promise<SessionRecord | null> {
    return this.manager
      .createQueryBuilder(SessionRecord, 's')
      .where('s.id = :id', { id })
      .setLock('pessimistic_write')
      .getOne();
  }
}
