import {
  IN_FLIGHT_RETRY_AFTER_SECONDS,
  type FailureOutcome,
  type LockoutPolicy,
  type LockoutState,
  type LoginLockout,
} from '@application/ports/login-lockout';
import { IN_FLIGHT_TTL_SECONDS, lockSeconds, LOCKOUT_MEMORY_SECONDS } from '../lockout-rules';
import { memoryKey } from './memory-key';

/**
 * The most identifiers remembered at once (about 30 MB). Past it, the oldest entries that hold no lock and no
 * attempt in flight are forgotten first, then, only if every entry holds one, the oldest locks: memory stays bounded
 * whatever an attacker sends, at the cost of forgetting failures of the identifiers seen longest ago.
 */
export const MAX_LOCKOUT_ENTRIES = 100_000;

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
    private readonly maxEntries = MAX_LOCKOUT_ENTRIES,
  ) {}

  /** How many identifiers are remembered now (for tests and the bounded-memory check). */
  get size(): number {
    return this.entries.size;
  }

  async state(identifier: string, now: Date): Promise<LockoutState> {
    const entry = this.live(memoryKey(identifier), now.getTime());
    return entry ? lockState(entry, now.getTime()) : { locked: false };
  }

  async reserve(identifier: string, now: Date): Promise<LockoutState> {
    const at = now.getTime();
    const entry = this.entry(memoryKey(identifier), at);
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
    const entry = this.entry(memoryKey(identifier), at);
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
    const key = memoryKey(identifier);
    const entry = this.live(key, now.getTime());
    if (!entry) return { locked: false };
    entry.inFlight.shift();
    const lock = lockState(entry, now.getTime());
    if (!lock.locked) this.entries.delete(key);
    return lock;
  }

  async release(identifier: string): Promise<void> {
    this.entries.get(memoryKey(identifier))?.inFlight.shift();
  }

  async clear(identifier: string): Promise<void> {
    this.entries.delete(memoryKey(identifier));
  }

  /**
   * Counts at least `locks` earlier locks for the identifier: the repeat count the shared store holds, copied for an
   * outage (FallbackLoginLockout), so that a lock set here meanwhile is as long as the one the shared store would set.
   * Remembered as long as failures are (the shared store forgets its count after as long).
   */
  async carryLocks(identifier: string, locks: number, now: Date): Promise<void> {
    const at = now.getTime();
    const entry = this.entry(memoryKey(identifier), at);
    entry.locks = Math.max(entry.locks, locks);
    entry.forgetAt = Math.max(entry.forgetAt, at + LOCKOUT_MEMORY_SECONDS * 1000);
  }

  /**
   * The entry filed under `key` (an identifier's memoryKey), created if needed; now and then drops every forgotten
   * entry, and makes room when MAX_LOCKOUT_ENTRIES are remembered (bounded memory).
   */
  private entry(key: string, at: number): Entry {
    if (++this.writes % 1000 === 0) this.sweep(at);
    const live = this.live(key, at);
    if (live) return live;
    if (this.entries.size >= this.maxEntries) this.makeRoom(at);
    const entry: Entry = { failures: 0, locks: 0, lockedUntil: 0, forgetAt: 0, inFlight: [] };
    this.entries.set(key, entry);
    return entry;
  }

  private sweep(at: number): void {
    for (const key of [...this.entries.keys()]) this.live(key, at);
  }

  /** Forgets down to 90% of the bound: the oldest entries with no lock and no attempt in flight, then the oldest. */
  private makeRoom(at: number): void {
    this.sweep(at);
    const target = Math.floor(this.maxEntries * 0.9);
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= target) return;
      if (entry.lockedUntil <= at && entry.inFlight.every((until) => until <= at)) this.entries.delete(key);
    }
    for (const key of this.entries.keys()) {
      if (this.entries.size <= target) return;
      this.entries.delete(key);
    }
  }

  private live(key: string, at: number): Entry | null {
    const entry = this.entries.get(key);
    if (entry && entry.forgetAt <= at) {
      this.entries.delete(key);
      return null;
    }
    return entry ?? null;
  }
}

function lockState(entry: Entry, at: number): LockoutState {
  if (entry.lockedUntil <= at) return { locked: false };
  return { locked: true, retryAfterSeconds: Math.ceil((entry.lockedUntil - at) / 1000) };
}
