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
