import { Session, type SessionState } from '@domain/session/session';
import type { RefreshTokenMatch, SessionRepository } from '@domain/session/session.repository';
import type { InMemoryDatabase } from './in-memory-database';
import { appendToOutbox } from './in-memory-outbox';

/** Locking is the unit of work's: it runs one transaction at a time. */
export class InMemorySessionRepository implements SessionRepository {
  constructor(private readonly db: InMemoryDatabase) {}

  async findById(id: string): Promise<Session | null> {
    const state = this.db.tables.sessions.get(id);
    return state ? restore(state) : null;
  }

  async findByRefreshTokenHashForUpdate(hash: string): Promise<RefreshTokenMatch | null> {
    for (const state of this.db.tables.sessions.values()) {
      if (state.refreshTokenHash === hash) return { session: restore(state), presented: 'current' };
      if (state.previousTokenHash === hash) return { session: restore(state), presented: 'previous' };
    }
    const sessionId = this.db.tables.refreshTokenHistory.get(hash);
    const state = sessionId === undefined ? undefined : this.db.tables.sessions.get(sessionId);
    return state ? { session: restore(state), presented: 'retired' } : null;
  }

  async findActiveByUser(userId: string, now: Date): Promise<Session[]> {
    return [...this.db.tables.sessions.values()]
      .filter((s) => s.userId === userId)
      .map(restore)
      .filter((s) => s.isActive(now))
      .sort((a, b) => b.toState().createdAt.getTime() - a.toState().createdAt.getTime());
  }

  async save(session: Session): Promise<void> {
    const state = session.toState();
    for (const hash of state.retiredTokenHashes) this.db.tables.refreshTokenHistory.set(hash, state.id);
    this.db.tables.sessions.set(state.id, structuredClone({ ...state, retiredTokenHashes: [] }));
    appendToOutbox(this.db, session.pullEvents(), state.lastUsedAt);
  }
}

function restore(state: SessionState): Session {
  return Session.restore(structuredClone(state));
}
