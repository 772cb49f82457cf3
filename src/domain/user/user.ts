import { AggregateRoot } from '../shared/domain-event';
import { EventTypes, type ChangedCredential, type ChangedProfileField, type LockedFactor, type LoginFailureReason } from '../shared/event-types';
import { DomainErrors } from '../shared/errors';
import { Credentials } from './credentials';
import * as Mfa from './mfa';
import type { InvitedUser, NewUser, ProfileChanges, UserState, UserStatus } from './user-state';
import { ADMIN_ROLE, USER_ROLE, type Role } from './role';
import type { Email } from './email';
import type { Username } from './username';

export type { InvitedUser, NewUser, ProfileChanges, UserState, UserStatus } from './user-state';

export class User extends AggregateRoot {
  private constructor(private state: Omit<UserState, 'credentials'>, private creds: Credentials) {
    super();
  }

  static register(input: NewUser, now: Date): User {
    const user = new User(
      {
        id: input.id.value,
        email: input.email.value,
        pendingEmail: null,
        username: input.username?.value ?? null,
        firstName: input.firstName,
        lastName: input.lastName,
        status: input.emailVerified || input.activeUnverified === true ? 'active' : 'pending_verification',
        emailVerified: input.emailVerified,
        roles: ['user'],
        mfaEnabled: false,
        createdAt: now,
        updatedAt: now,
        lastLoginAt: null,
        invitedBy: null,
      },
      Credentials.create(input.passwordHash, now),
    );
    user.record(EventTypes.UserRegistered, user.id, now, {
      user_id: user.id,
      email: user.email,
      username: user.username,
      email_verified: user.emailVerified,
    });
    return user;
  }

  /**
   * An account an admin creates: no password and an unproven address (pending_verification) until the
   * invitation link (a password-reset token) sets a password, which also verifies the address.
   */
  static invite(input: InvitedUser, now: Date): User {
    const user = new User(
      {
        id: input.id.value,
        email: input.email.value,
        pendingEmail: null,
        username: null,
        firstName: input.firstName,
        lastName: input.lastName,
        status: 'pending_verification',
        emailVerified: false,
        roles: [...input.roles],
        mfaEnabled: false,
        createdAt: now,
        updatedAt: now,
        lastLoginAt: null,
        invitedBy: input.invitedBy,
      },
      Credentials.none(),
    );
    user.record(EventTypes.UserRegistered, user.id, now, { user_id: user.id, email: user.email, username: null, email_verified: false });
    return user;
  }

  static restore(state: UserState): User {
    const { credentials, ...rest } = state;
    const creds = Credentials.restore(credentials);
    // The flag (users.mfa_enabled) and the credential are stored apart: disagreeing, they are corrupt data.
    if (rest.mfaEnabled !== Mfa.isMfaEnabled(creds)) throw new Error(`user ${rest.id}: mfaEnabled disagrees with its TOTP credential`);
    return new User({ ...rest, roles: [...rest.roles] }, creds);
  }

  get id(): string {
    return this.state.id;
  }
  get email(): string {
    return this.state.email;
  }
  get pendingEmail(): string | null {
    return this.state.pendingEmail;
  }
  get username(): string | null {
    return this.state.username;
  }
  get firstName(): string | null {
    return this.state.firstName;
  }
  get lastName(): string | null {
    return this.state.lastName;
  }
  /** The stored status: `active`, `pending_verification` or `suspended` (never `locked`: see statusAt). */
  get status(): UserStatus {
    return this.state.status;
  }

  /**
   * The status the admin API presents at `now` (CONTRACT §2; the owner's views keep the stored one, as anyone can
   * cause a lock): `locked` while an active account's recorded login lock
   * (credentials.lockedUntil, set when the lockout store locked one of its identifiers) is ahead of `now`, else the
   * stored status. A suspension or a pending verification says more than a lock and stays as it is. The lock is
   * never stored as the status: it ends by itself, with no write, when its time passes.
   */
  statusAt(now: Date): UserStatus {
    return User.statusOf(this.state.status, this.creds.lockedUntil, now);
  }

  /** The same rule on stored values (the in-memory directory filters with it; the SQL one repeats it). */
  static statusOf(status: UserStatus, lockedUntil: Date | null, now: Date): UserStatus {
    return status === 'active' && lockedUntil !== null && lockedUntil.getTime() > now.getTime() ? 'locked' : status;
  }

  /** The end of the login lock in effect at `now`, or null. */
  lockedUntilAt(now: Date): Date | null {
    return this.creds.lockedUntilAt(now);
  }
  get emailVerified(): boolean {
    return this.state.emailVerified;
  }
  get roles(): readonly string[] {
    return this.state.roles;
  }
  get credentials(): Credentials {
    return this.creds;
  }
  /** True exactly when a confirmed TOTP credential exists. */
  get mfaEnabled(): boolean {
    return this.state.mfaEnabled;
  }
  /** Unused recovery codes (0 without MFA). */
  get recoveryCodesLeft(): number {
    return Mfa.recoveryCodesLeft(this.creds);
  }

  /** Whether this account may be used now; throws the stable error a login must answer with. */
  assertCanAuthenticate(requireEmailVerification: boolean): void {
    if (this.state.status === 'suspended') {
      throw DomainErrors.accountDisabled();
    }
    if (requireEmailVerification && !this.state.emailVerified) {
      throw DomainErrors.emailNotVerified();
    }
  }

  /** Whether tokens already issued for this account still count (revocation by account status). */
  isUsable(requireEmailVerification: boolean): boolean {
    return User.isUsableState(this.state, requireEmailVerification);
  }

  /** The same rule on a stored state, without building the aggregate. */
  static isUsableState(state: Readonly<Pick<UserState, 'status' | 'emailVerified'>>, requireEmailVerification: boolean): boolean {
    if (state.status === 'suspended') return false;
    return !requireEmailVerification || state.emailVerified;
  }

  verifyEmail(now: Date): void {
    if (this.state.emailVerified) return;
    this.state.emailVerified = true;
    if (this.state.status === 'pending_verification') this.state.status = 'active';
    this.touch(now);
    this.record(EventTypes.UserEmailVerified, this.id, now, { user_id: this.id, email: this.email });
  }

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

  /** `undefined` leaves a field as it is, `null` clears it. Returns the fields that changed (event only then). */
  updateProfile(changes: ProfileChanges, now: Date): ChangedProfileField[] {
    const changed: ChangedProfileField[] = [];
    const set = <K extends 'username' | 'firstName' | 'lastName'>(key: K, value: string | null | undefined, field: ChangedProfileField) => {
      if (value === undefined || value === this.state[key]) return;
      this.state[key] = value;
      changed.push(field);
    };
    set('username', changes.username === undefined ? undefined : (changes.username?.value ?? null), 'username');
    set('firstName', changes.firstName, 'first_name');
    set('lastName', changes.lastName, 'last_name');
    if (changed.length > 0) {
      this.touch(now);
      this.record(EventTypes.UserUpdated, this.id, now, { user_id: this.id, changed });
    }
    return changed;
  }

  /**
   * The owner's own profile edit (PATCH /users/me): updateProfile, and a username change is a credential change too
   * (`auth.credentials.updated`, `changed: ["username"]`), as the same change through PUT /users/me/credentials is
   * (until stop 51 only `auth.user.updated` told of it: a review).
   */
  editProfile(changes: ProfileChanges, now: Date): ChangedProfileField[] {
    const changed = this.updateProfile(changes, now);
    if (changed.includes('username')) this.credentialsUpdated(now, ['username']);
    return changed;
  }

  changeUsername(username: Username | null, now: Date): boolean {
    const value = username?.value ?? null;
    if (value === this.state.username) return false;
    this.state.username = value;
    this.credentialsUpdated(now, ['username']);
    return true;
  }

  /**
   * Sets the address to confirm; a newer request replaces an older one. Asking for the address already in use
   * cancels a pending change and returns false (nothing to confirm).
   */
  requestEmailChange(email: Email, now: Date): boolean {
    const pending = email.value === this.state.email ? null : email.value;
    if (pending !== this.state.pendingEmail) this.touch(now);
    this.state.pendingEmail = pending;
    return pending !== null;
  }

  /**
   * Drops a pending email change (password reset or change, global logout): whoever asked for it may no longer
   * be entitled to, so its link must stop working. Returns whether there was one.
   */
  cancelEmailChange(now: Date): boolean {
    if (this.state.pendingEmail === null) return false;
    this.state.pendingEmail = null;
    this.touch(now);
    return true;
  }

  /** Makes the pending address the login address; returns the address it replaced. */
  confirmEmailChange(now: Date): string {
    const next = this.state.pendingEmail;
    if (next === null) throw DomainErrors.invalidLink();
    const previous = this.state.email;
    this.state.email = next;
    this.state.pendingEmail = null;
    this.state.emailVerified = true;
    if (this.state.status === 'pending_verification') this.state.status = 'active';
    this.credentialsUpdated(now, ['email']);
    return previous;
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

  /**
   * The admin whose grant the account's roles are while its invitation is outstanding (an inviter recorded, no
   * password chosen yet), else null: what redeeming the invitation checks (ConfirmPasswordReset, since stop 52).
   */
  get pendingInviter(): string | null {
    return this.creds.has('password') ? null : this.state.invitedBy;
  }

  /** Active and holding the admin role: what the admin API and its guard rails count. */
  get isActiveAdmin(): boolean {
    return this.state.status === 'active' && this.state.roles.includes(ADMIN_ROLE);
  }

  /** An admin suspends the account: no login, no token of it counts. Returns whether anything changed. */
  suspend(now: Date, actorId: string): boolean {
    return this.changeStatus('suspended', now, actorId);
  }

  /**
   * An admin lifts a suspension: active again, or awaiting verification if the address was never proven, unless
   * accounts sign in before that (`requireEmailVerification` false) and this one has a password to do it with.
   */
  reinstate(now: Date, actorId: string, requireEmailVerification = true): boolean {
    if (this.state.status !== 'suspended') return false;
    const signsIn = this.state.emailVerified || (!requireEmailVerification && this.creds.has('password'));
    return this.changeStatus(signsIn ? 'active' : 'pending_verification', now, actorId);
  }

  /**
   * An admin replaces the roles (validated Role values). Returns whether they changed: as a set, so the same roles in
   * another order change nothing (no event, no audit entry).
   */
  changeRoles(roles: readonly Role[], now: Date, actorId: string): boolean {
    const next = roles.map((role) => role.value);
    const previous = [...this.state.roles];
    if (new Set(next).size === new Set(previous).size && next.every((role) => previous.includes(role))) return false;
    this.state.roles = next;
    // While the account waits for its first password, the roles its link will carry are the grant of whoever set them
    // last: an admin's PATCH makes that admin the one whose removal withdraws them (not cleared: a stolen inviter token
    // would clear its own trace by re-sending the roles); the account's own id as actor is the CLI, whose grant no
    // admin's removal undoes. Any account without a password, not only an invited one (stop 53, a review: a grant to an
    // unproven sign-up discards its password and mails a link as an invitation does, and was recorded nowhere, so a
    // stolen admin token's grant to its own address outlived that admin's clean-up; so did one to an account whose
    // contested sign-up had already left it without a password).
    if (!this.creds.has('password')) this.state.invitedBy = actorId === this.id ? null : actorId;
    this.touch(now);
    this.record(EventTypes.UserRolesChanged, this.id, now, { user_id: this.id, roles: [...next], previous_roles: previous, actor_id: actorId });
    return true;
  }

  /**
   * The invitation is redeemed while its inviter is no longer an active admin: the roles it granted beyond `user`
   * go, the account keeps `user` (ConfirmPasswordReset, since stop 52). Evented as any roles change, `actor_id` the
   * account's own id, as when no admin acts (the CLI): the inviter did nothing, and may be deleted. `invitedBy` stays,
   * the record of who invited. False (nothing done) without an outstanding invitation or with `user` alone.
   */
  withdrawInvitedRoles(now: Date): boolean {
    if (this.pendingInviter === null) return false;
    const previous = [...this.state.roles];
    if (previous.length === 1 && previous[0] === USER_ROLE) return false;
    this.state.roles = [USER_ROLE];
    this.touch(now);
    this.record(EventTypes.UserRolesChanged, this.id, now, { user_id: this.id, roles: [USER_ROLE], previous_roles: previous, actor_id: this.id });
    return true;
  }

  /** An admin clears failed logins and the recorded lock (the lockout store is cleared by the caller). */
  unlock(now: Date): void {
    this.creds = this.creds.withSuccess();
    this.touch(now);
  }

  /** Records the deletion; the repository writes the event, then removes the account. */
  markDeleted(now: Date): void {
    this.record(EventTypes.UserDeleted, this.id, now, { user_id: this.id });
  }

  toState(): UserState {
    return { ...this.state, roles: [...this.state.roles], credentials: this.creds.toState() };
  }

  private recordLocked(now: Date, lockedUntil: Date, factor: LockedFactor): void {
    this.record(EventTypes.AccountLocked, this.id, now, {
      user_id: this.id,
      locked_until: lockedUntil.toISOString(),
      factor,
    });
  }

  private changeStatus(status: UserStatus, now: Date, actorId: string): boolean {
    const previous = this.state.status;
    if (previous === status) return false;
    this.state.status = status;
    this.touch(now);
    this.record(EventTypes.UserStatusChanged, this.id, now, { user_id: this.id, status, previous_status: previous, actor_id: actorId });
    return true;
  }

  private syncMfa(now: Date): void {
    this.state.mfaEnabled = Mfa.isMfaEnabled(this.creds);
    this.touch(now);
  }

  private touch(now: Date): void {
    this.state.updatedAt = now;
  }

  private credentialsUpdated(now: Date, changed: ChangedCredential[]): void {
    this.touch(now);
    this.record(EventTypes.CredentialsUpdated, this.id, now, { user_id: this.id, changed });
  }
}
