import type { UserState } from '@domain/user/user';
import type { CachedSessionState } from './session-state-cache';

/** What the validate path remembers about a session: the same as the shared cache's. */
export type LocalSessionState = Readonly<CachedSessionState>;

/**
 * A process-local, bounded copy of the session and account state the validate path needs, so that a hit does no
 * I/O. The database stays the truth; every committed change to a session or a user is announced through
 * `invalidate` (see StateCacheInvalidation), which drops the entries here and on every other instance.
 *
 * Rules that make it safe:
 * - a reader calls `startRead()` before it reads the shared cache or the database, and hands the returned mark to
 *   `put*`: state read before an invalidation of that key (or before the whole cache was cleared) is not stored;
 * - `startRead()` answers null while the link to the other instances is not confirmed (nothing may be served from
 *   or stored in the local cache then: invalidations may be getting lost);
 * - entries live a short, bounded time (a safety net), and the number of entries is bounded.
 * Entries are immutable: a user is handed out as a copy of a frozen state to rebuild the aggregate from, per hit.
 */
export interface AuthStateCache {
  /** A read mark, or null when the local cache must be bypassed. */
  startRead(): number | null;
  session(sessionId: string): LocalSessionState | null;
  user(userId: string): Readonly<UserState> | null;
  /**
   * The cached entry itself, not a copy: deep-frozen, the same object until it is replaced or dropped (so its
   * identity stands for its content). For read-only checks; copy it before building anything from it.
   */
  userEntry(userId: string): Readonly<UserState> | null;
  /** Stores state read since `mark` unless the key was invalidated meanwhile. */
  putSession(mark: number, sessionId: string, state: CachedSessionState): void;
  putUser(mark: number, userId: string, state: UserState): void;
  /**
   * After commit: drops the keys here at once and announces them to every other instance. Rejects if the
   * announcement could not be sent (the other instances may keep serving the old state up to the entry TTL).
   */
  invalidate(keys: { sessions: readonly string[]; users: readonly string[] }): Promise<void>;
}
