import { inject, injectable } from 'inversify';
import type { User } from '@domain/user/user';
import { Errors } from '../shared/errors';
import type { FailureOutcome, LoginLockout } from '../ports/login-lockout';
import type { Repositories } from '../ports/unit-of-work';
import { selfAuditEntry, unauthenticatedAuditEntry } from '../shared/audit-entry';
import type { ClientContext } from '../shared/client-context';
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

/**
 * The bookkeeping of a second step that has just locked (`FailureOutcome.lockedNow`), wherever the wrong codes were
 * typed (the login's second step, or turning MFA off): the lock recorded on the account (`user`, read FOR UPDATE in
 * `repos` and saved by the caller; null when it was deleted meanwhile), so `auth.account.locked` with factor
 * `second_factor` and its notice go out; every pending login of the account voided; `account.locked` audited.
 */
export async function recordSecondFactorLock(
  repos: Repositories,
  user: User | null,
  userId: string,
  lockSeconds: number,
  now: Date,
  client: ClientContext,
  signedIn = false,
): Promise<void> {
  user?.recordSecondFactorLockout(now, new Date(now.getTime() + lockSeconds * 1000));
  await repos.oneTimeTokens.consumeAllFor(userId, 'mfa_pending', now);
  // `signedIn`: the wrong codes came from the account's own session (disabling TOTP), so it is the actor; at the login
  // step nobody is signed in yet.
  const entry = (signedIn ? selfAuditEntry : unauthenticatedAuditEntry)('account.locked', client, user ? userId : null, now, `mfa_locked_${lockSeconds}s`);
  await repos.audit.record(entry);
}
