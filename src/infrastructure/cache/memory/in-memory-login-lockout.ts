import {
  IN_FLIGHT_RETRY_AFTER_SECONDS,
  type FailureOutcome,
  type LockoutPolicy,
  type LockoutState,
  type LoginLockout,
} from '@application/ports/login-lockout';
import { IN_FLIGHT_TTL_SECONDS, lockSeconds, LOCKOUT_MEMORY_SECONDS } from '../lockout-rules';

interface Entry {
  failures: number;
  locks: number;
  lockedUntil: number;
  forgetAt: number;
  /** When each attempt in flight stops holding its place (ms), oldest first. */
  inFlight: number[];
}

/** Lockout counters in process memory (embedded mode); the same rules as the Redis adapter (lockout-rules.ts). */
export class InMemoryLoginLockout implements LoginLockout {
  private readonly entries = new Map<string, Entry>();
  private writes = 0;

  constructor(
    private readonly policy: LockoutPolicy,
    private readonly inFlightTtlSeconds = IN_FLIGHT_TTL_SECONDS,
  ) {}

  async state(identifier: string, now: Date): Promise<LockoutState> {
    const entry = this.live(identifier, now.getTime());
    return entry ? lockState(entry, now.getTime()) : { locked: false };
  }

  async reserve(identifier: string, now: Date): Promise<LockoutState> {
    const at = now.getTime();
    const entry = this.entry(identifier, at);
    const lock = lockState(entry, at);
    if (lock.locked) return lock;
    entry.inFlight = entry.inFlight.filter((until) => until > at);
    // As the Redis adapter: failures counted under a higher threshold count as one short of this one.
    const failures = Math.min(entry.failures, this.policy.threshold - 1);
    if (failures + entry.inFlight.length >= this.policy.threshold) {
      return { locked: true, retryAfterSeconds: IN_FLIGHT_RETRY_AFTER_SECONDS, inFlight: true };
    }
    const until = at + this.inFlightTtlSeconds * 1000;
    entry.inFlight.push(until);
    entry.forgetAt = Math.max(entry.forgetAt, until);
    return { locked: false };
  }

  async recordFailure(identifier: string, now: Date): Promise<FailureOutcome> {
    const at = now.getTime();
    const entry = this.entry(identifier, at);
    entry.inFlight.shift();
    if (entry.lockedUntil > at) return { lockedNow: false, lockSeconds: 0 };
    entry.failures += 1;
    entry.forgetAt = Math.max(entry.forgetAt, at + LOCKOUT_MEMORY_SECONDS * 1000);
    if (entry.failures < this.policy.threshold) return { lockedNow: false, lockSeconds: 0 };
    const seconds = lockSeconds(this.policy, entry.locks);
    entry.locks += 1;
    entry.failures = 0;
    entry.lockedUntil = at + seconds * 1000;
    entry.forgetAt = entry.lockedUntil + LOCKOUT_MEMORY_SECONDS * 1000;
    return { lockedNow: true, lockSeconds: seconds };
  }

  async succeed(identifier: string, now: Date): Promise<LockoutState> {
    const entry = this.live(identifier, now.getTime());
    if (!entry) return { locked: false };
    entry.inFlight.shift();
    const lock = lockState(entry, now.getTime());
    if (!lock.locked) this.entries.delete(identifier);
    return lock;
  }

  async release(identifier: string): Promise<void> {
    this.entries.get(identifier)?.inFlight.shift();
  }

  async clear(identifier: string): Promise<void> {
    this.entries.delete(identifier);
  }

  /**
   * Counts at least `locks` earlier locks for the identifier: the repeat count the shared store holds, copied for an
   * outage (FallbackLoginLockout), so that a lock set here meanwhile is as long as the one the shared store would set.
   * Remembered as long as failures are (the shared store forgets its count after as long).
   */
  async carryLocks(identifier: string, locks: number, now: Date): Promise<void> {
    const at = now.getTime();
    const entry = this.entry(identifier, at);
    entry.locks = Math.max(entry.locks, locks);
    entry.forgetAt = Math.max(entry.forgetAt, at + LOCKOUT_MEMORY_SECONDS * 1000);
  }

  /** The identifier's entry, created if needed; now and then drops every forgotten entry (bounded memory). */
  private entry(identifier: string, at: number): Entry {
    if (++this.writes % 1000 === 0) for (const id of [...this.entries.keys()]) this.live(id, at);
    const entry = this.live(identifier, at) ?? { failures: 0, locks: 0, lockedUntil: 0, forgetAt: 0, inFlight: [] };
    this.entries.set(identifier, entry);
    return entry;
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

function lockState(entry: Entry, at: number): LockoutState {
  if (entry.lockedUntil <= at) return { locked: false };
  return { locked: true, retryAfterSeconds: Math.ceil((entry.lockedUntil - at) / 1000) };
}
