import type { VerifiedToken } from './verified-token';

export interface RevocationListOptions {
  /**
   * How long an entry is kept after its event, in ms: the longest access-token lifetime plus the verifier's clock
   * skew (default 15 min + 60 s). Past that, every token the entry could refuse has expired anyway.
   */
  retentionMs?: number;
  /** At most this many entries (sessions and users together, default 100,000); beyond it the oldest go first. */
  maxEntries?: number;
  /** The clock (ms since the epoch); injectable for tests. */
  now?: () => number;
}

/** What the token verifier asks (`createTokenVerifier({ revocations })`); a RevocationFeed is one. */
export interface RevocationCheck {
  /** True when this token's session was revoked, or its user was cut off after the token was issued. */
  isRevoked(token: VerifiedToken): boolean;
  /** False while the source of revocations is not receiving them (see `failClosedWhenDisconnected`). */
  readonly healthy: boolean;
  /**
   * When the source last resumed receiving after an outage (ms since the epoch, this host's clock); 0 when it has
   * had none since it first began; null while it is not receiving. A token issued before it may have been revoked
   * during the outage, so `failClosedWhenDisconnected` checks such a token online. Undefined: the source has no
   * outages to tell of (a list fed by its caller).
   */
  readonly resumedAt?: number | null;
}

interface Entry {
  /** Sessions: 0. Users: tokens issued (iat) before this instant (ms) are refused. */
  cutoffMs: number;
  expiresAt: number;
}

export const DEFAULT_RETENTION_MS = 15 * 60_000 + 60_000;
export const DEFAULT_MAX_ENTRIES = 100_000;

/**
 * The in-memory state of the revocation feed: revoked session ids, and per user a cut-off instant (deleted,
 * suspended, roles taken away) before which its tokens are refused. Idempotent (an event applied twice changes
 * nothing), order-tolerant (a user keeps the latest cut-off it was given), bounded in time and size.
 *
 * Entries live in one Map in insertion order, which is roughly expiry order (every entry lives `retentionMs`
 * from its event): expired entries are dropped from the front on every write and ignored on every read. Only
 * roughly: an entry whose event time is ahead of this host's clock lives longer than those after it, and the front
 * sweep stops at it. So when the Map is full every expired entry is swept first (O(n), only when full and some
 * entry has expired), and only then is the oldest live entry dropped (counted in `evicted`: a dropped revocation
 * is a missed one). Until stop 49 such an entry shielded the expired ones behind it and was itself evicted, alive.
 */
export class RevocationList implements RevocationCheck {
  private readonly retentionMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly entries = new Map<string, Entry>();
  private evictedCount = 0;
  /** No entry expires before this (a lower bound: exact after a sweep): a full list of live entries is never swept. */
  private earliestExpiry = Number.POSITIVE_INFINITY;

  constructor(options: RevocationListOptions = {}) {
    this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.now = options.now ?? Date.now;
    if (!(this.retentionMs > 0)) throw new TypeError('retentionMs: a positive number of milliseconds');
    if (!(Number.isInteger(this.maxEntries) && this.maxEntries > 0)) throw new TypeError('maxEntries: a positive integer');
  }

  /** A list on its own is always "healthy": nothing feeds it but its caller. */
  get healthy(): boolean {
    return true;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Entries dropped before their expiry because the list was full. */
  get evicted(): number {
    return this.evictedCount;
  }

  /** The session's tokens are refused until the retention has passed since `atMs` (the revocation's time). */
  revokeSession(sessionId: string, atMs: number = this.now()): void {
    this.put(`s:${sessionId}`, 0, atMs);
  }

  /** The user's tokens issued before `sinceMs` are refused (deleted, suspended, roles removed). */
  cutOffUser(userId: string, sinceMs: number = this.now()): void {
    const key = `u:${userId}`;
    const known = this.live(key);
    // Events come in any order: the latest cut-off wins, and it keeps the entry alive longest.
    this.put(key, Math.max(sinceMs, known?.cutoffMs ?? 0), sinceMs);
  }

  isRevoked(token: VerifiedToken): boolean {
    if (token.tokenType !== 'user') return false;
    if (token.sessionId !== null && this.live(`s:${token.sessionId}`)) return true;
    const user = this.live(`u:${token.subject}`);
    if (!user) return false;
    const iat = token.claims.iat;
    // iat is whole seconds (rounded down), the cut-off milliseconds: a token of the very millisecond before the
    // cut-off is refused, and so is one issued after it within the same second (a login right after a
    // reinstatement, a refresh right after a role removal), for its whole life, though auth-service accepts it.
    // Deliberately fail-closed: comparing by the second would let a token issued earlier in that second, before
    // the role was taken away, keep its old roles. A refresh in a later second gives a token this accepts.
    return typeof iat !== 'number' || iat * 1000 < user.cutoffMs;
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    return entry && entry.expiresAt > this.now() ? entry : undefined;
  }

  private put(key: string, cutoffMs: number, atMs: number): void {
    const now = this.now();
    // Kept from the later of the event's time and its arrival: a token may be issued up to the revocation and
    // lives its lifetime from there, on whichever clock is later.
    const expiresAt = Math.max(atMs, now) + this.retentionMs;
    const previous = this.entries.get(key);
    this.entries.delete(key);
    this.dropExpired(now);
    if (this.entries.size >= this.maxEntries && this.earliestExpiry <= now) this.sweepExpired(now);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
      this.evictedCount += 1;
    }
    const entry = { cutoffMs, expiresAt: Math.max(expiresAt, previous?.expiresAt ?? 0) };
    this.entries.set(key, entry);
    this.earliestExpiry = Math.min(this.earliestExpiry, entry.expiresAt);
  }

  /** The expired entries at the front (cheap, on every write). */
  private dropExpired(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now) return;
      this.entries.delete(key);
    }
  }

  /**
   * Every expired entry, wherever it is: the whole Map, only when it is full and something in it has expired (a flood
   * of live revocations evicts at O(1) a write, as before).
   */
  private sweepExpired(now: number): void {
    let earliest = Number.POSITIVE_INFINITY;
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now) this.entries.delete(key);
      else earliest = Math.min(earliest, entry.expiresAt);
    }
    this.earliestExpiry = earliest;
  }
}
