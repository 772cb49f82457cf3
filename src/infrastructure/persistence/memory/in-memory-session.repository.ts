import { Session, type SessionState } from '@domain/session/session';
import type { RefreshTokenMatch, RefreshTokenRead, SessionRepository } from '@domain/session/session.repository';
import { User } from '@domain/user/user';
import { LockedRows } from '../locked-rows';
import type { InMemoryDatabase } from './in-memory-database';
import { appendToOutbox } from './in-memory-outbox';

type Row = Omit<SessionState, 'retiredTokenHashes'>;

/**
 * Locking is the unit of work's: it runs one transaction at a time. add/save keep the SQL adapter's rules: save
 * takes a session read FOR UPDATE (or added) here, writes only what changed, and never inserts.
 */
export class InMemorySessionRepository implements SessionRepository {
  private readonly locked = new LockedRows<Session, Row>('sessions');
  private readonly readForRotation = new LockedRows<Session, Row>('sessions');
  /** The stored row each of those sessions was read from: saveIfCurrent holds only if it is still the one stored. */
  private readonly readRows = new WeakMap<Session, object>();

  constructor(private readonly db: InMemoryDatabase) {}

  /** As PostgreSQL's uuid column: an id spelled in capitals names the same row. */
  async findById(id: string): Promise<Session | null> {
    const state = this.db.tables.sessions.get(id.toLowerCase());
    return state ? restore(state) : null;
  }

  async findByIdForUpdate(id: string): Promise<Session | null> {
    const session = await this.findById(id);
    return session ? this.track(session) : null;
  }

  async findByRefreshTokenHashForUpdate(hash: string): Promise<RefreshTokenMatch | null> {
    for (const state of this.db.tables.sessions.values()) {
      if (state.refreshTokenHash === hash) return { session: this.track(restore(state)), presented: 'current' };
      if (state.previousTokenHash === hash) return { session: this.track(restore(state)), presented: 'previous' };
    }
    const sessionId = this.db.tables.refreshTokenHistory.get(hash);
    const state = sessionId === undefined ? undefined : this.db.tables.sessions.get(sessionId);
    return state ? { session: this.track(restore(state)), presented: 'retired' } : null;
  }

  async findOwnerOfRefreshToken(hash: string): Promise<string | null> {
    for (const state of this.db.tables.sessions.values()) {
      if (state.refreshTokenHash === hash || state.previousTokenHash === hash) return state.userId;
    }
    const sessionId = this.db.tables.refreshTokenHistory.get(hash);
    return (sessionId === undefined ? undefined : this.db.tables.sessions.get(sessionId))?.userId ?? null;
  }

  async findActiveByUser(userId: string, now: Date): Promise<Session[]> {
    return [...this.db.tables.sessions.values()]
      .filter((s) => s.userId === userId)
      .map(restore)
      .filter((s) => s.isActive(now))
      .sort((a, b) => b.toState().createdAt.getTime() - a.toState().createdAt.getTime() || compare(a.id, b.id));
  }

  async findActiveByUserForUpdate(userId: string, now: Date): Promise<Session[]> {
    return (await this.findActiveByUser(userId, now)).map((s) => this.track(s));
  }

  async hasActiveBeyond(userId: string, keep: number, now: Date): Promise<boolean> {
    return (await this.findActiveByUser(userId, now)).length > keep;
  }

  async findActiveBeyondForUpdate(userId: string, keep: number, now: Date, limit?: number): Promise<Session[]> {
    return (await this.findActiveByUser(userId, now)).slice(keep, limit === undefined ? undefined : keep + limit).map((s) => this.track(s));
  }

  async add(session: Session): Promise<void> {
    const { retiredTokenHashes, ...row } = session.toState();
    if (this.db.tables.sessions.has(row.id)) throw new Error('sessions: duplicate primary key');
    if (!this.db.tables.users.has(row.userId)) throw new Error('sessions: the user does not exist (foreign key)');
    this.write(session, row, retiredTokenHashes, row);
  }

  async save(session: Session): Promise<void> {
    const { retiredTokenHashes, ...row } = session.toState();
    const changes = this.locked.changes(session, row);
    const current = this.db.tables.sessions.get(row.id);
    if (!current) throw new Error('sessions: the locked row to update is gone');
    this.write(session, row, retiredTokenHashes, { ...current, ...changes });
  }

  /** A new stored object for every active session of the user, as the SQL adapter writes a new row version. */
  async fenceRefreshes(userId: string): Promise<void> {
    const id = userId.toLowerCase();
    for (const [sessionId, state] of this.db.tables.sessions) {
      if (state.userId === id && state.revokedAt === null) this.db.tables.sessions.set(sessionId, structuredClone(state));
    }
  }

  async findByRefreshTokenHash(hash: string): Promise<RefreshTokenRead | null> {
    for (const state of this.db.tables.sessions.values()) {
      if (state.refreshTokenHash !== hash && state.previousTokenHash !== hash) continue;
      const session = restore(state);
      const { retiredTokenHashes: _retired, ...row } = session.toState();
      this.readForRotation.remember(session, row);
      const user = this.db.tables.users.get(state.userId);
      this.readRows.set(session, state);
      const presented = state.refreshTokenHash === hash ? 'current' : 'previous';
      return { session, presented, user: user ? User.restore(structuredClone(user)) : null };
    }
    return null;
  }

  /**
   * Synchronous from the compare to the write: nothing runs in between (as one statement in SQL). Known limit of
   * the in-memory tables: a unit of work running meanwhile that then rolls back restores its snapshot, which
   * predates this write (SQL keeps it). Only the unit tests run on these tables.
   */
  async saveIfCurrent(session: Session, expectedHash: string, liveAt: Date): Promise<boolean> {
    if (session.pullEvents().length > 0) throw new Error('sessions: saveIfCurrent cannot write events (use a unit of work)');
    const { retiredTokenHashes, ...row } = session.toState();
    const changes = this.readForRotation.changes(session, row);
    const read = this.readRows.get(session);
    if (read === undefined) throw new Error('sessions: saveIfCurrent needs a session read by findByRefreshTokenHash');
    const current = this.db.tables.sessions.get(row.id);
    if (!current || current.refreshTokenHash !== expectedHash || current.revokedAt !== null) return false;
    if (current.expiresAt.getTime() <= liveAt.getTime()) return false;
    // The stored row must be the very one read (every write stores a new object), as the SQL adapter compares the
    // row's version, so that a write since the read (fenceRefreshes) fails the compare.
    if (current !== read) return false;
    for (const hash of retiredTokenHashes) if (!this.db.tables.refreshTokenHistory.has(hash)) this.db.tables.refreshTokenHistory.set(hash, row.id);
    this.db.tables.sessions.set(row.id, structuredClone({ ...current, ...changes, retiredTokenHashes: [] }));
    this.readForRotation.remember(session, row);
    return true;
  }

  private write(session: Session, row: Row, retired: string[], stored: Row): void {
    for (const hash of retired) if (!this.db.tables.refreshTokenHistory.has(hash)) this.db.tables.refreshTokenHistory.set(hash, row.id);
    this.db.tables.sessions.set(row.id, structuredClone({ ...stored, retiredTokenHashes: [] }));
    this.locked.remember(session, row);
    appendToOutbox(this.db, session.pullEvents());
  }

  private track(session: Session): Session {
    const { retiredTokenHashes: _retired, ...row } = session.toState();
    this.locked.remember(session, row);
    return session;
  }
}

function restore(state: SessionState): Session {
  return Session.restore(structuredClone(state));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
