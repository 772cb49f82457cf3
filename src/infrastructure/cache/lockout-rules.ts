import type { LockoutPolicy } from '@application/ports/login-lockout';

/**
 * How long the counters of an identifier live after its last failure (or the end of its last lock): within
 * this time failures add up and a new lock doubles the previous one; after it, the identifier starts afresh.
 */
export const LOCKOUT_MEMORY_SECONDS = 24 * 3600;

/** The length of the identifier's next lock: base, doubling with each earlier lock, capped. */
export function lockSeconds(policy: LockoutPolicy, earlierLocks: number): number {
  const doubled = policy.baseSeconds * 2 ** Math.min(earlierLocks, 30);
  return Math.min(doubled, policy.maxSeconds);
}

/**
 * How long an attempt in flight (reserved, not yet ended) holds its place: far above a login's time (one hash
 * and a few queries), short enough that a process dying mid-login frees the identifier soon.
 */
export const IN_FLIGHT_TTL_SECONDS = 30;

/** How long failed checks of a re-entered secret (the current password) add up after the last one. */
export const SECRET_ATTEMPTS_MEMORY_SECONDS = 24 * 3600;
