import { EventTypes, type LockedFactor, type LoginFailureReason } from '../shared/event-types';
import * as Mfa from './mfa';
import { UserWithProfile } from './user-profile';

/**
 * The User aggregate's sign-in verbs: logins and their failures, the lockout's record, the password (rehash, reset,
 * change, an unproven one discarded) and the second factor (TOTP and recovery codes, rules in mfa.ts).
 */
export abstract class UserWithSignIn extends UserWithProfile {
  recordSuccessfulLogin(now: Date, sessionId: string, amr: string[]): void {
    this.creds = this.creds.withSuccess();
    this.state.lastLoginAt = now;
    this.record(EventTypes.UserLoggedIn, this.id, now, { user_id: this.id, session_id: sessionId, amr });
  }

  /**
   * A failed login at `now`. The reason is for the audit trail and events only; the caller answers every failure
   * the same way. Recorded after the answer, its bookkeeping can land after a later successful login's: a failure
   * from before the latest success then does not count toward the failures since (the event still tells).
   */
  recordFailedLogin(now: Date, reason: LoginFailureReason): void {
    const overtaken = this.state.lastLoginAt !== null && this.state.lastLoginAt.getTime() >= now.getTime();
    if (!overtaken) this.creds = this.creds.withFailure();
    this.record(EventTypes.UserLoginFailed, this.id, now, {
      user_id: this.id,
      reason,
      failed_attempts: this.creds.failedAttempts,
    });
  }

  /**
   * Too many failed logins for one of this account's identifiers. The lock itself is kept by the lockout store
   * (per identifier, shared by instances); `lockedUntil` here is for reading (status `locked`, admin views),
   * cleared wherever the store's is: a login, a reset, an admin unlock.
   */
  recordLockout(now: Date, lockedUntil: Date): void {
    this.creds = this.creds.withLock(lockedUntil);
    this.recordLocked(now, lockedUntil, 'password');
  }

  /**
   * Too many wrong second factors: the second step is locked (MfaLockout, keyed by account id). Evented like a
   * login lock but with `factor: second_factor` (the owner is told their password is known to someone, not that it
   * may be being guessed), and not recorded in `lockedUntil`: that field mirrors the password lockout,
   * which the status `locked` presents. The two end differently (a password reset ends the first and leaves this
   * one, on purpose), and only someone who knows the password can set this one, which an admin must not read as
   * the everyday `locked` that anyone typing an address can cause.
   */
  recordSecondFactorLockout(now: Date, lockedUntil: Date): void {
    this.recordLocked(now, lockedUntil, 'second_factor');
  }

  /**
   * The password step succeeded and the lockout store's entries were cleared, but the login awaits its second
   * step (recordSuccessfulLogin comes with it): the recorded lock goes now, as the store's went. Returns whether
   * there was one.
   */
  liftRecordedLock(): boolean {
    const next = this.creds.withoutLock();
    if (next === this.creds) return false;
    this.creds = next;
    return true;
  }

  rehashPassword(passwordHash: string): void {
    this.creds = this.creds.rehashed(passwordHash);
  }

  /** The event only: the token travels by email and never enters an event. */
  requestPasswordReset(now: Date): void {
    this.record(EventTypes.PasswordResetRequested, this.id, now, { user_id: this.id });
  }

  /**
   * Clears failed attempts and the recorded lock (the caller clears the lockout store's). The link went to the
   * address, so it also proves the address. When that is the first proof of an address someone had chosen a password
   * for (REQUIRE_EMAIL_VERIFICATION=false lets such an account sign in), whoever chose it may not own the mailbox:
   * the second factor and the profile they set go too, as with a contested registration (discardUnprovenPassword).
   * An invitation (no password before) keeps the names the admin gave.
   */
  resetPassword(passwordHash: string, now: Date): void {
    const unproven = !this.state.emailVerified && this.creds.has('password');
    this.creds = this.creds.changed(passwordHash, now).withSuccess();
    this.touch(now);
    this.record(EventTypes.PasswordReset, this.id, now, { user_id: this.id });
    if (unproven) {
      this.disableMfa(now);
      this.updateProfile({ username: null, firstName: null, lastName: null }, now);
    }
    this.verifyEmail(now);
  }

  /**
   * A second registration of an address whose account was never proven (or an admin confirming it): whoever chose
   * the password (the profile, the second factor) cannot be told from whoever reads the mailbox, so none of it
   * survives; the mailbox's owner sets a password through a reset link, which also proves the address. False
   * (nothing done) for a proven address or an account without a password. Until stop 51 the second factor stayed
   * (a review): the owner's reset then found no unproven password to clear it with, and met the squatter's TOTP.
   */
  discardUnprovenPassword(now: Date, actor?: string): boolean {
    if (this.state.emailVerified || !this.creds.has('password')) return false;
    this.creds = this.creds.without('password');
    this.credentialsUpdated(now, ['password']);
    // `actor`: the admin whose confirmation or grant discards it (the event's actor_id); else the account's own.
    this.disableMfa(now, actor);
    this.updateProfile({ username: null, firstName: null, lastName: null }, now);
    return true;
  }

  /**
   * A signed-in user's new password: failures start afresh; a recorded login lock stays, as the lockout store's
   * does (only a login, a reset or an admin unlock clear that), so the status keeps telling the truth.
   */
  changePassword(passwordHash: string, now: Date): void {
    this.creds = this.creds.changed(passwordHash, now);
    this.credentialsUpdated(now, ['password']);
  }

  /**
   * Stores a pending TOTP secret (sealed by the SecretBox port), replacing an earlier pending one. Enables
   * nothing until confirmed. CONFLICT when TOTP is already enabled.
   */
  beginTotpSetup(sealedSecret: string, now: Date): void {
    this.creds = Mfa.beginTotpSetup(this.creds, sealedSecret, now);
    this.touch(now);
  }

  /**
   * The pending secret is confirmed (the caller checked a code against it): MFA is on, with these recovery-code
   * hashes. CONFLICT without a pending set-up or when already enabled.
   */
  confirmTotp(recoveryCodeHashes: readonly string[], now: Date, step?: number): void {
    this.creds = Mfa.confirmTotp(this.creds, recoveryCodeHashes, now, step);
    this.syncMfa(now);
    this.record(EventTypes.MfaEnabled, this.id, now, { user_id: this.id, method: 'totp' });
  }

  /**
   * Removes the second factor (TOTP, confirmed or pending, and the recovery codes). `actor`: the admin's id when
   * support does it, else the user. Returns whether MFA was enabled: only then is `auth.mfa.disabled` recorded.
   */
  disableMfa(now: Date, actor?: string): boolean {
    const wasEnabled = this.state.mfaEnabled;
    const next = this.creds.without('totp', 'recovery_codes');
    if (next === this.creds) return false;
    this.creds = next;
    this.syncMfa(now);
    if (wasEnabled) this.record(EventTypes.MfaDisabled, this.id, now, { user_id: this.id, method: 'totp', actor_id: actor ?? this.id });
    return wasEnabled;
  }

  /** A new set of recovery codes; the old ones stop working. CONFLICT when MFA is not enabled. */
  replaceRecoveryCodes(recoveryCodeHashes: readonly string[], now: Date): void {
    this.creds = Mfa.replaceRecoveryCodes(this.creds, recoveryCodeHashes, now);
    this.touch(now);
  }

  /** Spends a verified code's time step (RFC 6238 section 5.2); false when it was spent already or is older. */
  useTotpStep(step: number): boolean {
    const next = Mfa.useTotpStep(this.creds, step);
    if (next === null) return false;
    this.creds = next;
    return true;
  }

  /** Spends the recovery code with this hash; false (nothing changes) when it is not one of the codes left. */
  useRecoveryCode(codeHash: string, _now: Date): boolean {
    const next = Mfa.useRecoveryCode(this.creds, codeHash);
    if (next === null) return false;
    this.creds = next;
    return true;
  }

  /** Whether the recovery code with this hash is one of the codes left, unspent. */
  holdsRecoveryCode(codeHash: string): boolean {
    return Mfa.holdsRecoveryCode(this.creds, codeHash);
  }

  /** Whether the recovery code with this hash is one of the current set's, spent already (sent again: a replay). */
  isSpentRecoveryCode(codeHash: string): boolean {
    return Mfa.isSpentRecoveryCode(this.creds, codeHash);
  }

  private recordLocked(now: Date, lockedUntil: Date, factor: LockedFactor): void {
    this.record(EventTypes.AccountLocked, this.id, now, {
      user_id: this.id,
      locked_until: lockedUntil.toISOString(),
      factor,
    });
  }

  private syncMfa(now: Date): void {
    this.state.mfaEnabled = Mfa.isMfaEnabled(this.creds);
    this.touch(now);
  }
}
