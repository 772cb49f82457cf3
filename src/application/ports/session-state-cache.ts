/** What a revocation check needs to know about a session. */
export interface CachedSessionState {
  userId: string;
  expiresAt: Date;
  revoked: boolean;
  /**
   * From `get` of a shared cache: how much longer (ms) its entry lives. A copy kept elsewhere (the local tier)
   * must not outlive it, so that an entry a lost revocation left behind is trusted no longer than the TTL.
   */
  remainingMs?: number;
}

/**
 * A shared, short-lived copy of session state so that revocation checks skip the database; the database stays
 * the truth. Invalidation after every committed session change is what makes a revocation count at once on
 * every instance; the rules below make it safe against a reader that read the database before the change:
 * - `remember` never overwrites: a stale reader cannot replace a newer entry or a revocation;
 * - a revoked session is written as a revocation that nothing but its expiry removes;
 * - any other change deletes the entry unless it is a revocation.
 */
export interface SessionStateCache {
  get(sessionId: string): Promise<CachedSessionState | null>;
  /** Stores state read from the database, only if there is no entry. */
  remember(sessionId: string, state: CachedSessionState): Promise<void>;
  /** After commit: sessions revoked (`revoked`) and otherwise changed (`changed`). */
  invalidate(changes: { revoked: string[]; changed: string[] }): Promise<void>;
}
