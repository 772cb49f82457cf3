import type { Clock } from '@application/ports/clock';
import type { CachedSessionState, SessionStateCache } from '@application/ports/session-state-cache';

interface Entry {
  state: CachedSessionState;
  expiresAt: number;
}

export interface SessionCacheTtl {
  /** Lifetime of an entry for a live session. */
  ttlSeconds: number;
  /** Lifetime of a revocation: at least as long as an access token naming the session can be presented. */
  revokedTtlSeconds: number;
}

/** Process-local session cache (embedded mode) with the port's rules; entries expire by the Clock. */
export class InMemorySessionStateCache implements SessionStateCache {
  private readonly entries = new Map<string, Entry>();
  private writes = 0;

  constructor(
    private readonly clock: Clock,
    private readonly ttl: SessionCacheTtl,
  ) {}

  async get(sessionId: string): Promise<CachedSessionState | null> {
    const entry = this.live(sessionId);
    return entry ? { ...entry.state, remainingMs: entry.expiresAt - this.clock.now().getTime() } : null;
  }

  async remember(sessionId: string, state: CachedSessionState): Promise<void> {
    if (this.live(sessionId)) return;
    this.put(sessionId, state);
  }

  async invalidate(changes: { revoked: string[]; changed: string[] }): Promise<void> {
    for (const id of changes.changed) {
      if (!this.live(id)?.state.revoked) this.entries.delete(id);
    }
    for (const id of changes.revoked) {
      const userId = this.entries.get(id)?.state.userId ?? '';
      this.put(id, { userId, expiresAt: new Date(0), revoked: true });
    }
  }

  private put(sessionId: string, state: CachedSessionState): void {
    // Entries are read lazily; sweep now and then so that sessions never seen again do not pile up.
    if (++this.writes % 1000 === 0) for (const id of [...this.entries.keys()]) this.live(id);
    const seconds = state.revoked ? this.ttl.revokedTtlSeconds : this.ttl.ttlSeconds;
    this.entries.set(sessionId, { state: { ...state }, expiresAt: this.clock.now().getTime() + seconds * 1000 });
  }

  private live(sessionId: string): Entry | null {
    const entry = this.entries.get(sessionId);
    if (!entry) return null;
    if (entry.expiresAt > this.clock.now().getTime()) return entry;
    this.entries.delete(sessionId);
    return null;
  }
}
