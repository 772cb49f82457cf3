import type { FailureOutcome, LockoutPolicy, LockoutState, LoginLockout } from '@application/ports/login-lockout';
import { lockSeconds, LOCKOUT_MEMORY_SECONDS } from '../lockout-rules';

interface Entry {
  failures: number;
  locks: number;
  lockedUntil: number;
  forgetAt: number;
}

/** Lockout counters in process memory (embedded mode); the same rules as the Redis adapter (lockout-rules.ts). */
export class InMemoryLoginLockout implements LoginLockout {
  private readonly entries = new Map<string, Entry>();
  private failures = 0;

  constructor(private readonly policy: LockoutPolicy) {}

  async state(identifier: string, now: Date): Promise<LockoutState> {
    const entry = this.live(identifier, now.getTime());
    if (!entry || entry.lockedUntil <= now.getTime()) return { locked: false };
    return { locked: true, retryAfterSeconds: Math.ceil((entry.lockedUntil - now.getTime()) / 1000) };
  }

  async recordFailure(identifier: string, now: Date): Promise<FailureOutcome> {
    const at = now.getTime();
    if (++this.failures % 1000 === 0) for (const id of [...this.entries.keys()]) this.live(id, at);
    const entry = this.live(identifier, at) ?? { failures: 0, locks: 0, lockedUntil: 0, forgetAt: 0 };
    this.entries.set(identifier, entry);
    if (entry.lockedUntil > at) return { lockedNow: false, lockSeconds: 0 };
    entry.failures += 1;
    entry.forgetAt = at + LOCKOUT_MEMORY_SECONDS * 1000;
    if (entry.failures < this.policy.threshold) return { lockedNow: false, lockSeconds: 0 };
    const seconds = lockSeconds(this.policy, entry.locks);
    entry.locks += 1;
    entry.failures = 0;
    entry.lockedUntil = at + seconds * 1000;
    entry.forgetAt = entry.lockedUntil + LOCKOUT_MEMORY_SECONDS * 1000;
    return { lockedNow: true, lockSeconds: seconds };
  }

  async clear(identifier: string): Promise<void> {
    this.entries.delete(identifier);
  }

  private live(identifier: string, at: number): Entry | null {
    const entry = this.entries.get(identifier);
    if (entry && entry.forgetAt <= at) {
      this.entries.delete(identifier);
      return null;
    }
    return entry ?? null;
  }
}
