/** Lockout rules (CONTRACT §5): `threshold` consecutive failures lock for `baseSeconds`, doubling per repeat up to `maxSeconds`. */
export interface LockoutPolicy {
  threshold: number;
  baseSeconds: number;
  maxSeconds: number;
}

export type LockoutState = { locked: false } | { locked: true; retryAfterSeconds: number };

export interface FailureOutcome {
  /** True when this failure locked the identifier. */
  lockedNow: boolean;
  /** The lock's length when lockedNow, else 0. */
  lockSeconds: number;
}

/**
 * Consecutive login failures per identifier (a normalised email or username, whether or not an account has it),
 * shared by every instance. Counting is atomic: concurrent failures never lose a count or lock twice.
 */
export interface LoginLockout {
  state(identifier: string, now: Date): Promise<LockoutState>;
  recordFailure(identifier: string, now: Date): Promise<FailureOutcome>;
  /** Forgets failures, lock and repeat count (successful login, password reset, admin unlock). */
  clear(identifier: string): Promise<void>;
}
