import type { Session } from '@domain/session/session';
import type { RefreshTokenMatch, RefreshTokenRead, SessionRepository } from '@domain/session/session.repository';

/**
 * A session repository that hands every call to another one: the base of the unit-of-work decorators that watch
 * what is saved (SessionCacheInvalidation, StateCacheInvalidation). A subclass overrides what it watches.
 */
export class DelegatingSessions implements SessionRepository {
  constructor(protected readonly inner: SessionRepository) {}

  findById(id: string): Promise<Session | null> {
    return this.inner.findById(id);
  }

  findByIdForUpdate(id: string): Promise<Session | null> {
    return this.inner.findByIdForUpdate(id);
  }

  findByRefreshTokenHashForUpdate(hash: string): Promise<RefreshTokenMatch | null> {
    return this.inner.findByRefreshTokenHashForUpdate(hash);
  }

  findOwnerOfRefreshToken(hash: string): Promise<string | null> {
    return this.inner.findOwnerOfRefreshToken(hash);
  }

  findActiveByUser(userId: string, now: Date): Promise<Session[]> {
    return this.inner.findActiveByUser(userId, now);
  }

  findActiveByUserForUpdate(userId: string, now: Date): Promise<Session[]> {
    return this.inner.findActiveByUserForUpdate(userId, now);
  }

  hasActiveBeyond(userId: string, keep: number, now: Date): Promise<boolean> {
    return this.inner.hasActiveBeyond(userId, keep, now);
  }

  findActiveBeyondForUpdate(userId: string, keep: number, now: Date, limit?: number): Promise<Session[]> {
    return this.inner.findActiveBeyondForUpdate(userId, keep, now, limit);
  }

  add(session: Session): Promise<void> {
    return this.inner.add(session);
  }

  save(session: Session): Promise<void> {
    return this.inner.save(session);
  }

  findByRefreshTokenHash(hash: string): Promise<RefreshTokenRead | null> {
    return this.inner.findByRefreshTokenHash(hash);
  }

  /**
   * Outside any unit of work by definition (RefreshSession's compare-and-set rotation, which drops the cached
   * state itself). It only moves a live session's expiry later, never revokes (a cached entry holding the earlier
   * expiry can only refuse sooner, and lives at most its TTL), so the decorators pass it through unannounced.
   */
  saveIfCurrent(session: Session, expectedHash: string, liveAt: Date): Promise<boolean> {
    return this.inner.saveIfCurrent(session, expectedHash, liveAt);
  }

  fenceRefreshes(userId: string): Promise<void> {
    return this.inner.fenceRefreshes(userId);
  }
}
