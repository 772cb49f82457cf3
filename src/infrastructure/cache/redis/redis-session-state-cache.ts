import type { CachedSessionState, SessionStateCache } from '@application/ports/session-state-cache';
import type { SessionCacheTtl } from '../memory/in-memory-session-state-cache';
import { RedisScript, watchRedis, type RedisClient } from './redis-connection';

/** A revocation is stored as this literal; live sessions as `{"u": userId, "x": expiresAt ms}`. */
const REVOKED = 'revoked';

const DELETE_UNLESS_REVOKED = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
`);

/** While revocations are owed, a read tries to write them at most this often. */
const RETRY_PENDING_MS = 1_000;

/** The entry and its remaining lifetime (ms), read at once. */
const GET_WITH_TTL = new RedisScript(`
return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}
`);

/**
 * The port's rules on Redis: SET NX for readers, unconditional revocations, deletes that spare revocations.
 * Outages: a revocation that cannot be written is kept and written on reconnect, or by a read once Redis takes writes
 * again (at most one try a second), and until then this instance reads the database. After any reconnect the instance also reads the database for one TTL, long enough for
 * every live entry written before the outage to expire: none of them can hide a revocation made meanwhile.
 */
export class RedisSessionStateCache implements SessionStateCache {
  /** Revocations owed: Redis refused their write (or the connection failed it), written again by flush. */
  private readonly pending = new Set<string>();
  /**
   * Revocations whose write is under way. Apart from `pending`: until stop 52 an id entered `pending` before its
   * write was sent, and readiness (owesWrites) said `cache: down` during ordinary logouts on a healthy Redis (a
   * review: 8 of 120 probes beside parallel logouts). Reads still skip Redis meanwhile: this instance knows of the
   * revocation before Redis does.
   */
  private readonly writing = new Set<string>();
  private distrustUntil = 0;
  /** The one flush of owed revocations under way, and the earliest time for the next try. */
  private flushing: Promise<void> | null = null;
  private nextFlushAt = 0;

  constructor(
    private readonly client: RedisClient,
    private readonly keyPrefix: string,
    private readonly ttl: SessionCacheTtl,
  ) {
    // A client still connecting (an instance started during an outage: connectRedis `degrade`) is down from the
    // start: its first `ready` counts as a reconnect, entries written before it are not trusted for one TTL.
    if (!client.isReady) this.distrustUntil = Number.POSITIVE_INFINITY;
    watchRedis(client, {
      down: () => {
        this.distrustUntil = Number.POSITIVE_INFINITY;
      },
      up: () => {
        // Monotonic (as every wait here): a wall clock stepped forward ended the distrust early (a review of clocks).
        this.distrustUntil = performance.now() + ttl.ttlSeconds * 1000;
        this.flush().catch(() => undefined);
      },
    });
  }

  async get(sessionId: string): Promise<CachedSessionState | null> {
    if (this.pending.size > 0) {
      // Owed revocations are also written again here, not only on reconnect: Redis can refuse a write and keep the
      // connection (OOM under maxmemory, READONLY on a replica promoted away). Until stop 51 such a revocation stayed
      // owed until the next reconnect, and this instance read the database for every session meanwhile (a review).
      this.retryPending();
      return null;
    }
    // Not written yet, nor failed: Redis may still hold the session's live entry. Nothing to retry.
    if (this.writing.size > 0) return null;
    if (performance.now() < this.distrustUntil) return null;
    const [raw, pttl] = (await GET_WITH_TTL.run(this.client, [this.key(sessionId)], [])) as [string | null | false, number];
    const state = parse(typeof raw === 'string' ? raw : null);
    return state && typeof pttl === 'number' && pttl > 0 ? { ...state, remainingMs: pttl } : state;
  }

  async remember(sessionId: string, state: CachedSessionState): Promise<void> {
    const value = state.revoked ? REVOKED : JSON.stringify({ u: state.userId, x: state.expiresAt.getTime() });
    const seconds = state.revoked ? this.ttl.revokedTtlSeconds : this.ttl.ttlSeconds;
    await this.client.set(this.key(sessionId), value, { condition: 'NX', expiration: { type: 'EX', value: seconds } });
  }

  async invalidate(changes: { revoked: string[]; changed: string[] }): Promise<void> {
    // writeRevocation marks each id `writing` before its first await: this instance's reads skip Redis from here on.
    await Promise.all([
      ...changes.changed.map((id) => DELETE_UNLESS_REVOKED.run(this.client, [this.key(id)], [REVOKED])),
      ...changes.revoked.map((id) => this.writeRevocation(id)),
    ]);
  }

  /**
   * For readiness: revocations this instance could not write are still owed, not those whose write is under way (the
   * other instances may serve a session it revoked until their entries expire). Asking also tries to write them (at most one try a second), so an
   * instance that serves no validation meanwhile becomes `cache: up` again once Redis takes writes.
   */
  owesWrites(): boolean {
    if (this.pending.size === 0) return false;
    this.retryPending();
    return true;
  }

  /**
   * Owed only once the write failed. One `writing` entry per id is enough when two writes of it overlap: the first to
   * settle leaves it either in Redis or in `pending`, and reads skip Redis for it either way.
   */
  private async writeRevocation(sessionId: string): Promise<void> {
    this.writing.add(sessionId);
    try {
      await this.client.set(this.key(sessionId), REVOKED, { expiration: { type: 'EX', value: this.ttl.revokedTtlSeconds } });
      this.pending.delete(sessionId);
    } catch (error) {
      this.pending.add(sessionId);
      throw error;
    } finally {
      this.writing.delete(sessionId);
    }
  }

  private async flush(): Promise<void> {
    for (const id of [...this.pending]) await this.writeRevocation(id);
  }

  /** At most one flush at a time, and one try a second while Redis keeps refusing. */
  private retryPending(): void {
    const now = performance.now();
    if (this.flushing || now < this.nextFlushAt) return;
    this.nextFlushAt = now + RETRY_PENDING_MS;
    this.flushing = this.flush()
      .catch(() => undefined)
      .finally(() => (this.flushing = null));
  }

  private key(sessionId: string): string {
    return `${this.keyPrefix}session:${sessionId}`;
  }
}

function parse(raw: string | null): CachedSessionState | null {
  if (raw === null) return null;
  if (raw === REVOKED) return { userId: '', expiresAt: new Date(0), revoked: true };
  try {
    const value = JSON.parse(raw) as { u?: unknown; x?: unknown };
    if (typeof value.u !== 'string' || typeof value.x !== 'number') return null;
    return { userId: value.u, expiresAt: new Date(value.x), revoked: false };
  } catch {
    return null;
  }
}
