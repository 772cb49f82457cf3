import { AggregateRoot } from '../shared/domain-event';
import { EventTypes, type ChangedCredential } from '../shared/event-types';
import { DomainErrors } from '../shared/errors';
import type { Credentials } from './credentials';
import * as Mfa from './mfa';
import type { UserState, UserStatus } from './user-state';
import { ADMIN_ROLE } from './role';

/**
 * The User aggregate's state, what it answers about itself, and the helpers its verbs share. The verbs are in the
 * layers above, one file per concern: the profile and the address (user-profile.ts), signing in, the password and
 * the second factor (user-sign-in.ts), the factories and an admin's verbs (user.ts, the `User` everyone imports).
 */
export abstract class UserBase extends AggregateRoot {
  protected constructor(protected state: Omit<UserState, 'credentials'>, protected creds: Credentials) {
    super();
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
    return UserBase.statusOf(this.state.status, this.creds.lockedUntil, now);
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
    return UserBase.isUsableState(this.state, requireEmailVerification);
  }

  /** The same rule on a stored state, without building the aggregate. */
  static isUsableState(state: Readonly<Pick<UserState, 'status' | 'emailVerified'>>, requireEmailVerification: boolean): boolean {
    if (state.status === 'suspended') return false;
    return !requireEmailVerification || state.emailVerified;
  }

  toState(): UserState {
    return { ...this.state, roles: [...this.state.roles], credentials: this.creds.toState() };
  }

  protected touch(now: Date): void {
    this.state.updatedAt = now;
  }

  protected credentialsUpdated(now: Date, changed: ChangedCredential[]): void {
    this.touch(now);
    this.record(EventTypes.CredentialsUpdated, this.id, now, { user_id: this.id, changed });
  }
}
