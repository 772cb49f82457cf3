import { inject, injectable } from 'inversify';
import { Errors } from '../shared/errors';
import type { FailureOutcome, LoginLockout } from '../ports/login-lockout';
import { PORTS } from '../ports/tokens';

/**
 * Wrong second factors, counted per account in the lockout store every instance shares, with the password
 * lockout's rules (LOCKOUT_THRESHOLD failures lock for LOCKOUT_DURATION, doubling per repeat up to
 * LOCKOUT_MAX_DURATION). Its own store (a key space apart from the login identifiers'), keyed by account id:
 * no identifier typed at the login form can reach these counters.
 */
@injectable()
export class MfaLockout {
  constructor(@inject(PORTS.MfaLockoutStore) private readonly lockout: LoginLockout) {}

  /**
   * Before a code is checked: counts it in flight; throws ACCOUNT_LOCKED (Retry-After) when the step is locked,
   * RATE_LIMITED (Retry-After: 1) when codes in flight fill its places.
   */
  async reserve(userId: string, now: Date): Promise<void> {
    const state = await this.lockout.reserve(userId, now);
    if (state.locked && state.inFlight) throw Errors.attemptsInFlight(state.retryAfterSeconds);
    if (state.locked) throw Errors.mfaLocked(state.retryAfterSeconds);
  }

  fail(userId: string, now: Date): Promise<FailureOutcome> {
    return this.lockout.recordFailure(userId, now);
  }

  /** The code was right: refused (locked) only if other attempts locked the step meanwhile. */
  async succeed(userId: string, now: Date): Promise<void> {
    const state = await this.lockout.succeed(userId, now);
    if (state.locked) throw Errors.mfaLocked(state.retryAfterSeconds);
  }

  release(userId: string): Promise<void> {
    return this.lockout.release(userId);
  }

  /** Support removed the second factor: its failures go too. */
  clear(userId: string): Promise<void> {
    return this.lockout.clear(userId);
  }
}
