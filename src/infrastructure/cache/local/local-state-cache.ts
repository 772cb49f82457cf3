import type { AuthStateCache, LocalSessionState } from '@application/ports/auth-state-cache';
import type { CachedSessionState } from '@application/ports/session-state-cache';
import type { UserState } from '@domain/user/user';
import { BoundedLru } from './bounded-lru';
import type { InvalidatedKeys, InvalidationLink } from './invalidation-link';

export interface LocalStateCacheOptions {
  /** Entries per kind (sessions, users); 0 turns the cache off. */
  maxEntries: number;
  /** How long an entry may be served without any invalidation reaching it (the safety net), ms. */
  ttlMs: number;
  /** Invalidation records kept to refuse stale stores; past that the oldest go and older reads store nothing. */
  maxInvalidationRecords?: number;
  /** Monotonic ms. */
  now?: () => number;
}

/**
 * AuthStateCache in process memory, kept in step with the other instances through an InvalidationLink.
 *
 * Stale reads: every invalidation (and every clear) takes the next sequence number; a reader's mark is the
 * number current when it started. Its result is stored only if no invalidation of that key (and no clear) has
 * a number above its mark. The per-key records are bounded: dropping the oldest raises a floor below which no
 * read may store, which only ever refuses more.
 */
export class LocalStateCache implements AuthStateCache {
  private readonly sessions: BoundedLru<string, LocalSessionState>;
  private readonly users: BoundedLru<string, Readonly<UserState>>;
  private readonly invalidated = new Map<string, number>();
  private readonly maxRecords: number;
  private readonly now: () => number;
  private seq = 0;
  private floor = 0;

  constructor(
    private readonly link: InvalidationLink,
    private readonly options: LocalStateCacheOptions,
  ) {
    this.now = options.now ?? (() => performance.now());
    this.sessions = new BoundedLru(options.maxEntries, this.now);
    this.users = new BoundedLru(options.maxEntries, this.now);
    this.maxRecords = options.maxInvalidationRecords ?? 10_000;
    link.listen({ invalidate: (keys) => this.drop(keys), reestablished: () => this.clear() });
  }

  get enabled(): boolean {
    return this.options.maxEntries > 0 && this.options.ttlMs > 0;
  }

  startRead(): number | null {
    if (!this.enabled || !this.link.trusted()) return null;
    return this.seq;
  }

  session(sessionId: string): LocalSessionState | null {
    if (!this.link.trusted()) return null;
    return this.sessions.get(sessionId) ?? null;
  }

  user(userId: string): Readonly<UserState> | null {
    if (!this.link.trusted()) return null;
    const state = this.users.get(userId);
    return state === undefined ? null : copyOf(state);
  }

  userEntry(userId: string): Readonly<UserState> | null {
    if (!this.link.trusted()) return null;
    return this.users.get(userId) ?? null;
  }

  putSession(mark: number, sessionId: string, state: CachedSessionState): void {
    if (!this.mayStore(mark, `s:${sessionId}`)) return;
    const frozen = Object.freeze({ userId: state.userId, expiresAt: new Date(state.expiresAt.getTime()), revoked: state.revoked });
    // A copy of a shared entry never outlives it (see CachedSessionState.remainingMs).
    const ttl = state.remainingMs === undefined ? this.options.ttlMs : Math.min(this.options.ttlMs, state.remainingMs);
    this.sessions.set(sessionId, frozen, this.now() + ttl);
  }

  putUser(mark: number, userId: string, state: UserState): void {
    if (!this.mayStore(mark, `u:${userId}`)) return;
    this.users.set(userId, deepFreeze(copyOf(state)), this.now() + this.options.ttlMs);
  }

  async invalidate(keys: InvalidatedKeys): Promise<void> {
    this.drop(keys);
    if (keys.sessions.length > 0 || keys.users.length > 0) await this.link.publish(keys);
  }

  /** Entries held now (for tests and metrics). */
  get size(): { sessions: number; users: number } {
    return { sessions: this.sessions.size, users: this.users.size };
  }

  private drop(keys: InvalidatedKeys): void {
    for (const id of keys.sessions) {
      this.sessions.delete(id);
      this.record(`s:${id}`);
    }
    for (const id of keys.users) {
      this.users.delete(id);
      this.record(`u:${id}`);
    }
  }

  private record(key: string): void {
    this.seq += 1;
    this.invalidated.delete(key); // re-inserted last: the Map stays in sequence order
    this.invalidated.set(key, this.seq);
    while (this.invalidated.size > this.maxRecords) {
      const [oldest, at] = this.invalidated.entries().next().value as [string, number];
      this.invalidated.delete(oldest);
      this.floor = Math.max(this.floor, at);
    }
  }

  /** Everything may be stale (the link was down): drop it all, and refuse every read started before. */
  private clear(): void {
    this.seq += 1;
    this.floor = this.seq;
    this.invalidated.clear();
    this.sessions.clear();
    this.users.clear();
  }

  private mayStore(mark: number, key: string): boolean {
    if (!this.enabled || !this.link.trusted() || mark < this.floor) return false;
    const at = this.invalidated.get(key);
    return at === undefined || at <= mark;
  }
}

/** A deep copy of plain data (objects, arrays, Dates): what is handed out can never reach the cached entry. */
function copyOf<T>(value: T): T {
  if (isDate(value)) return new Date(value.getTime()) as T;
  if (Array.isArray(value)) return value.map(copyOf) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = copyOf(v);
    return out as T;
  }
  return value;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !isDate(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Also a Date made in another realm (a vm context), which `instanceof Date` would take for a plain object. */
function isDate(value: unknown): value is Date {
  return Object.prototype.toString.call(value) === '[object Date]';
}
