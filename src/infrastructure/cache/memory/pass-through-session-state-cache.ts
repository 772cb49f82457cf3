import type { CachedSessionState, SessionStateCache } from '@application/ports/session-state-cache';

/**
 * No cache: every check reads the database. For several instances on one PostgreSQL without Redis, where a
 * per-process cache would let the other instances accept a revoked session until their entry expired.
 */
export class PassThroughSessionStateCache implements SessionStateCache {
  async get(): Promise<CachedSessionState | null> {
    return null;
  }

  async remember(): Promise<void> {}

  async invalidate(): Promise<void> {}
}
