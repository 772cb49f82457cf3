/** Lockout rules (CONTRACT §5): `threshold` consecutive failures lock for `baseSeconds`, doubling per repeat up to `maxSeconds`. */
export interface LockoutPolicy {
  threshold: number;
  baseSeconds: number;
  maxSeconds: number;
}

/**
 * `inFlight`: refused because attempts in flight fill the places, not locked by failures (no lock is set).
 * `unconfirmed` (not locked): the shared store could not be asked, and this is this instance's own count (an outage):
 * no evidence that a lock set elsewhere was lifted.
 */
export type LockoutState = { locked: false; unconfirmed?: true } | { locked: true; retryAfterSeconds: number; inFlight?: true };

export interface FailureOutcome {
  /** True when this failure locked the identifier. */
  lockedNow: boolean;
  /** The lock's length when lockedNow, else 0. */
  lockSeconds: number;
}

/**
 * Seconds a refused reserve() asks the caller to wait when no lock is set yet and only attempts in flight fill
 * the quota: they end within a hash's time, and either lock the identifier (the next try learns the real lock)
 * or free their place.
 */
export const IN_FLIGHT_RETRY_AFTER_SECONDS = 1;

/**
 * Consecutive login failures per identifier (a normalised email or username, whether or not an account has it),
 * shared by every instance. Counting is atomic: concurrent failures never lose a count or lock twice.
 *
 * A login reserves its attempt before the password is hashed, so that concurrent attempts cannot all be checked
 * before the first failure is counted: consecutive failures + attempts in flight never exceed the threshold.
 * Each granted reserve() ends with exactly one of recordFailure(), succeed() or release(). An attempt in flight
 * is forgotten by itself after a short TTL (adapter setting, default 30 s), so a process that dies mid-login
 * cannot hold an identifier's places for ever. Ending an attempt removes one in flight, whichever (they are
 * interchangeable); ending one when none is in flight changes nothing but what the call itself does.
 */
export interface LoginLockout {
  /** Locked now (a lock set by failures); attempts in flight do not count here. */
  state(identifier: string, now: Date): Promise<LockoutState>;
  /**
   * Before the password is checked: counts one attempt in flight. Refused (locked) while the identifier is
   * locked (retryAfterSeconds: the lock's remainder), or when consecutive failures + attempts in flight already
   * reach the threshold (inFlight, retryAfterSeconds: IN_FLIGHT_RETRY_AFTER_SECONDS); a refused call reserves nothing.
   */
  reserve(identifier: string, now: Date): Promise<LockoutState>;
  /**
   * A wrong password (or unknown account): ends one attempt in flight, if any, and counts a failure, unless the
   * identifier is locked already (then nothing is counted). The threshold-th failure locks (lockedNow).
   * Without a prior reserve() it behaves as it always did.
   */
  recordFailure(identifier: string, now: Date): Promise<FailureOutcome>;
  /**
   * The reserved attempt had the right password: ends it; refused (locked) if the identifier was locked
   * meanwhile (by other attempts), else forgets failures, attempts in flight and the repeat count, like clear().
   */
  succeed(identifier: string, now: Date): Promise<LockoutState>;
  /** The reserved attempt ended without a verdict on the password (refused for account status, an error): frees it. */
  release(identifier: string): Promise<void>;
  /** Forgets failures, lock, attempts in flight and repeat count (password reset, admin unlock). */
  clear(identifier: string): Promise<void>;
}
