import { inject, injectable } from 'inversify';
import { DomainError } from '@domain/shared/domain-error';
import { Errors } from '../shared/errors';
import { Password } from '@domain/user/password';
import type { User } from '@domain/user/user';
import type { UserRepository } from '@domain/user/user.repository';
import type { AuthSettings } from '../shared/auth-settings';
import type { Clock } from '../ports/clock';
import type { DeferredWork } from '../ports/deferred-work';
import type { FailureOutcome, LoginLockout, LockoutState } from '../ports/login-lockout';
import type { PasswordHasher } from '../ports/password-hasher';
import type { UnitOfWork } from '../ports/unit-of-work';
import { selfAuditEntry, unauthenticatedAuditEntry } from '../shared/audit-entry';
import { matchPassword, stillHoldsPassword } from '../shared/password-match';
import { clearLockout, lockoutKey } from './login-lockout-keys';
import { SessionIssuer } from './session-issuer';
import type { IdGenerator } from '../ports/id-generator';
import type { OpaqueTokens } from '../ports/opaque-tokens';
import type { MfaSettings } from '../shared/mfa-settings';
import { issueOneTimeToken } from '../shared/one-time-token-issuer';
import { PORTS } from '../ports/tokens';
import { findByIdentifier, type LoginInput, type LoginOutcome } from './login-outcome';

export type { LoginInput, LoginOutcome, MfaChallenge, SignedIn } from './login-outcome';

/** A password step that failed: the audit's reason (the event says `wrong_password` for an account either way). */
type PasswordFailure = 'unknown_account' | 'wrong_password';

/** MFA-pending tokens carry 256 bits (CONTRACT §4: at least 128). */
const MFA_TOKEN_BYTES = 32;

@injectable()
export class LoginWithPassword {
  constructor(
    @inject(PORTS.UserRepository) private readonly users: UserRepository,
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.PasswordHasher) private readonly hasher: PasswordHasher,
    @inject(SessionIssuer) private readonly issuer: SessionIssuer,
    @inject(PORTS.Clock) private readonly clock: Clock,
    @inject(PORTS.AuthSettings) private readonly settings: AuthSettings,
    @inject(PORTS.LoginLockout) private readonly lockout: LoginLockout,
    @inject(PORTS.OpaqueTokens) private readonly opaque: OpaqueTokens,
    @inject(PORTS.IdGenerator) private readonly ids: IdGenerator,
    @inject(PORTS.MfaSettings) private readonly mfa: MfaSettings,
    @inject(PORTS.DeferredWork) private readonly deferred: DeferredWork,
  ) {}

  async execute(input: LoginInput): Promise<LoginOutcome> {
    const key = lockoutKey(input.identifier);
    // Reserved before any lookup or hashing: attempts in flight count toward the lockout, so a parallel burst
    // gets no more password checks than a sequence; a locked identifier costs nothing and answers the same.
    const lock = await this.lockout.reserve(key, this.clock.now());
    if (lock.locked && lock.inFlight) return this.refuse(input, 'attempts_in_flight', Errors.attemptsInFlight(lock.retryAfterSeconds));
    if (lock.locked) return this.refuse(input, 'locked', Errors.accountLocked(lock.retryAfterSeconds));
    const attempt = { settled: false };
    try {
      return await this.attempt(input, key, attempt);
    } finally {
      // Ended without a verdict on the password (status refused, credentials changed, an error): frees the place.
      if (!attempt.settled) await this.lockout.release(key);
    }
  }

  private async attempt(input: LoginInput, key: string, attempt: { settled: boolean }): Promise<LoginOutcome> {
    const found = await findByIdentifier(this.users, input.identifier);
    if (!found) {
      await matchPassword(this.hasher, null, input.password, input.client.signal);
      attempt.settled = true;
      return this.fail(input, key, 'unknown_account');
    }
    const hash = found.credentials.passwordHash;
    // No password (an account that never set one): the same cost and answer as a wrong one.
    // Each check rejects unrun (SERVICE_UNAVAILABLE, like a refusal) if the client has gone before its turn: no
    // verdict, so no failure is counted and the lockout place is given back.
    const { signal } = input.client;
    // An input NFKC changes costs two verifies when wrong (its normalised and its typed form): so do these two.
    // A hash of other parameters (made before ARGON2_* changed, the account dormant since) verifies at its own
    // cost, not the dummy's an unknown address pays: the dummy runs alongside, so a wrong guess takes as long as
    // for an unknown address (outside review, 2026-12-02). Once the account logs in it is rehashed, and this ends.
    const stale = hash !== null && this.hasher.needsRehash(hash);
    const [match] = await Promise.all([
      matchPassword(this.hasher, hash, input.password, signal),
      stale ? matchPassword(this.hasher, null, input.password, signal).catch(() => 'none' as const) : 'none',
    ]);
    if (hash === null || match === 'none') {
      attempt.settled = true;
      return this.fail(input, key, 'wrong_password');
    }
    // Status is revealed only to someone who knows the password.
    if (!found.isUsable(this.settings.requireEmailVerification)) return this.refuseStatus(input, found);
    // Other parameters, or a hash of the typed form made before passwords were normalised: made again, normalised.
    const rehash = match === 'as_typed' || this.hasher.needsRehash(hash) ? await this.hasher.hash(Password.normalize(input.password), signal) : null;
    const now = this.clock.now();
    // The last word of the lockout, just before a session exists, asked once: refused if other attempts locked
    // the identifier meanwhile.
    let asked: Promise<LockoutState> | undefined;
    const verdict = () =>
      (asked ??= this.lockout.succeed(key, now).then((state) => {
        attempt.settled = true;
        return state;
      }));
    if (rehash === null && !found.mfaEnabled) {
      const signedIn = await this.signInIfUnchanged(input, key, found, verdict, now);
      if (signedIn !== null) return signedIn;
    }
    const result = await this.uow.run(async (repos) => {
      // Locked and read again: the password was checked against a copy read before the transaction. Deleted
      // since, or its password changed or reset since: what was checked no longer opens the account.
      const user = await repos.users.findByIdForUpdate(found.id);
      if (!user || !(await stillHoldsPassword(this.hasher, user.credentials, found.credentials, input.password, signal))) return null;
      if (!user.isUsable(this.settings.requireEmailVerification)) return user;
      const lock = await verdict();
      if (lock.locked) return lock;
      // Not when a parallel login rehashed it first (the same password, already under the current parameters).
      const rehashed = rehash !== null && user.credentials.passwordHash === hash;
      if (rehashed) user.rehashPassword(rehash);
      if (user.mfaEnabled) {
        // The password step only: a pending login for the second step, no session. Each is its own (two devices
        // may sign in at once; a newer one does not void another's); a password reset or change, or too many
        // wrong codes, void them all.
        // The lockout store's entries of every identifier are cleared below: the recorded lock goes with them.
        const lifted = user.liftRecordedLock();
        if (rehashed || lifted) await repos.users.save(user);
        const mfaToken = await issueOneTimeToken(repos, this.opaque, this.ids, {
          userId: user.id,
          purpose: 'mfa_pending',
          ttlSeconds: this.mfa.challengeTtlSeconds,
          now,
          tokenBytes: MFA_TOKEN_BYTES,
          replacePrevious: false,
        });
        await repos.audit.record(selfAuditEntry('mfa.challenge_issued', input.client, user.id, now));
        return { user, challenge: { mfaRequired: true as const, mfaToken, expiresInSeconds: this.mfa.challengeTtlSeconds } };
      }
      const { session, tokens } = await this.issuer.start(repos, user, ['pwd'], input.client, now);
      user.recordSuccessfulLogin(now, session.id, ['pwd']);
      await repos.users.save(user);
      await repos.audit.record(selfAuditEntry('login.succeeded', input.client, user.id, now));
      return { user, tokens };
    });
    if (result === null) return this.refuse(input, 'credentials_changed', Errors.invalidCredentials());
    if ('locked' in result) return this.refuse(input, 'locked', Errors.accountLocked(result.retryAfterSeconds));
    if ('challenge' in result && result.challenge) {
      await clearLockout(this.lockout, result.user, key);
      return result.challenge;
    }
    if (!('tokens' in result)) return this.refuseStatus(input, result);
    await clearLockout(this.lockout, result.user, key);
    return { mfaRequired: false, user: result.user, tokens: result.tokens };
  }

  /**
   * The common login (no second factor, no rehash) without a transaction: the session, the account's
   * bookkeeping, its event and audit entry written in one statement, only if the account is still as read before
   * the verify (UnitOfWork.runIfUnchanged: nothing of its row or credentials changed since, so the password
   * checked still opens it, and the status checked still holds). Null when it changed meanwhile (a password
   * change, a deletion, a suspension, another attempt's bookkeeping): nothing was written and the caller decides
   * again under the lock. The lockout's verdict is asked first, and once; should the locked path then refuse (the
   * password changed in those milliseconds), the identifier's failures were forgotten by a password that was
   * right until then, as they would have been had this login come a moment earlier.
   */
  private async signInIfUnchanged(
    input: LoginInput,
    key: string,
    found: User,
    verdict: () => Promise<LockoutState>,
    now: Date,
  ): Promise<LoginOutcome | null> {
    const lock = await verdict();
    if (lock.locked) return this.refuse(input, 'locked', Errors.accountLocked(lock.retryAfterSeconds));
    const written = await this.uow.runIfUnchanged(found, async (repos) => {
      const { session, tokens } = await this.issuer.start(repos, found, ['pwd'], input.client, now);
      found.recordSuccessfulLogin(now, session.id, ['pwd']);
      await repos.users.save(found);
      await repos.audit.record(selfAuditEntry('login.succeeded', input.client, found.id, now));
      return tokens;
    });
    if (!written.written) return null;
    await clearLockout(this.lockout, found, key);
    return { mfaRequired: false, user: found, tokens: written.value };
  }

  /** A right password for an account that may not log in now (unverified, suspended): audited, its stable error. */
  private refuseStatus(input: LoginInput, user: User): Promise<never> {
    try {
      user.assertCanAuthenticate(this.settings.requireEmailVerification);
    } catch (error) {
      return this.refuse(input, error instanceof DomainError ? error.code.toLowerCase() : 'refused', error);
    }
    return this.refuse(input, 'refused', Errors.invalidCredentials());
  }

  /**
   * A wrong password or an unknown account: one more failure for the identifier, the same answer for both, at the
   * same time. The lockout counts before the answer (the next attempt must see it); the bookkeeping, which differs
   * (an existing account's row is locked, updated and gets its event; an unknown one has no row), follows the
   * answer (DeferredWork), so the answer does not wait for it and cannot tell the two apart by its time.
   */
  private async fail(input: LoginInput, key: string, reason: PasswordFailure): Promise<never> {
    const now = this.clock.now();
    const outcome = await this.lockout.recordFailure(key, now);
    this.deferred.defer('login failure bookkeeping', () => this.recordFailure(input, reason, outcome, now));
    throw Errors.invalidCredentials();
  }

  private async recordFailure(input: LoginInput, reason: PasswordFailure, outcome: FailureOutcome, now: Date): Promise<void> {
    // This may run minutes after the answer (retried while the database refuses it): a lock lifted meanwhile (an
    // admin or CLI unlock, a reset, the owner's login once it ended) is not put back on the account, nor announced.
    // Until stop 51's review of its own retries, such a late write showed the account `locked` after an unlock and a
    // login, and mailed the owner a lock notice after it. A lift is shown only by the shared store answering "not
    // locked" while the lock would still run: a lock that ran out by itself is still recorded (its end in the past)
    // and announced, and so is one whose store cannot be asked (an outage answers from this instance's memory).
    const lockStands = outcome.lockedNow && (await this.lockNotLifted(input.identifier, new Date(now.getTime() + outcome.lockSeconds * 1000)));
    await this.uow.run(async (repos) => {
      // Looked up again in both cases, so that known and unknown identifiers do the same database work; locked
      // so that the failure is recorded on the newest row, and not at all on an account deleted meanwhile.
      const seen = await findByIdentifier(repos.users, input.identifier);
      const user = seen && (await repos.users.findByIdForUpdate(seen.id));
      if (user) {
        // An account found now failed with this password, even one registered since the answer said unknown.
        user.recordFailedLogin(now, 'wrong_password');
        if (lockStands) user.recordLockout(now, new Date(now.getTime() + outcome.lockSeconds * 1000));
        await repos.users.save(user);
      }
      const subject = user?.id ?? null;
      await repos.audit.record(unauthenticatedAuditEntry('login.failed', input.client, subject, now, reason));
      if (outcome.lockedNow) {
        await repos.audit.record(unauthenticatedAuditEntry('account.locked', input.client, subject, now, `locked_${outcome.lockSeconds}s`));
      }
    });
  }

  private async lockNotLifted(identifier: string, lockedUntil: Date): Promise<boolean> {
    const current = this.clock.now();
    if (current.getTime() >= lockedUntil.getTime()) return true;
    const state = await this.lockout.state(lockoutKey(identifier), current);
    return state.locked || state.unconfirmed === true;
  }

  /** Refused without counting a failure (locked identifier, unverified or disabled account): audited, rethrown. */
  private async refuse(input: LoginInput, reason: string, error: unknown): Promise<never> {
    const now = this.clock.now();
    await this.uow.run(async (repos) => {
      const user = await findByIdentifier(repos.users, input.identifier);
      await repos.audit.record(unauthenticatedAuditEntry('login.failed', input.client, user?.id ?? null, now, reason));
    });
    throw error;
  }
}
