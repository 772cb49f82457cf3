import { EventTypes } from '../shared/event-types';
import { Credentials } from './credentials';
import * as Mfa from './mfa';
import type { InvitedUser, NewUser, UserState, UserStatus } from './user-state';
import { USER_ROLE, type Role } from './role';
import { UserWithSignIn } from './user-sign-in';

export type { InvitedUser, NewUser, ProfileChanges, UserState, UserStatus } from './user-state';

/**
 * The User aggregate: an account, its profile and its credentials. Its verbs are layered by concern (user-base.ts:
 * state, reads and shared helpers; user-profile.ts: profile and address; user-sign-in.ts: logins, the password and
 * the second factor); here are its factories and an admin's verbs.
 */
export class User extends UserWithSignIn {
  private constructor(state: Omit<UserState, 'credentials'>, creds: Credentials) {
    super(state, creds);
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

  private changeStatus(status: UserStatus, now: Date, actorId: string): boolean {
    const previous = this.state.status;
    if (previous === status) return false;
    this.state.status = status;
    this.touch(now);
    this.record(EventTypes.UserStatusChanged, this.id, now, { user_id: this.id, status, previous_status: previous, actor_id: actorId });
    return true;
  }
}
