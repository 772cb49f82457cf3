import type { CredentialsState } from './credentials';
import type { Email } from './email';
import type { UserId } from './user-id';
import type { Username } from './username';

/** The User aggregate's data, as repositories store and restore it, and the inputs of its factories. */
export type UserStatus = 'pending_verification' | 'active' | 'locked' | 'suspended';

export interface UserState {
  id: string;
  email: string;
  /** A new address awaiting confirmation (email change): it cannot be used to log in until confirmed. */
  pendingEmail: string | null;
  username: string | null;
  firstName: string | null;
  lastName: string | null;
  status: UserStatus;
  emailVerified: boolean;
  roles: string[];
  mfaEnabled: boolean;
  credentials: CredentialsState;
  createdAt: Date;
  updatedAt: Date;
  lastLoginAt: Date | null;
  /**
   * The admin who invited the account (users.invited_by, no foreign key: a deleted inviter leaves the id), or null
   * (registered, made by the CLI). While the account has no password yet, its roles beyond `user` are that admin's
   * grant: redeeming the invitation keeps them only if the admin still is one (since stop 52).
   */
  invitedBy: string | null;
}

export interface NewUser {
  id: UserId;
  email: Email;
  username: Username | null;
  firstName: string | null;
  lastName: string | null;
  passwordHash: string;
  emailVerified: boolean;
  /**
   * The account signs in before its address is proven (REQUIRE_EMAIL_VERIFICATION=false): `active` with
   * `emailVerified` false, rather than `pending_verification`.
   */
  activeUnverified?: boolean;
}

/** Profile fields a user edits; `undefined` = unchanged, `null` = cleared. */
export interface ProfileChanges {
  username?: Username | null;
  firstName?: string | null;
  lastName?: string | null;
}

/** An account an admin creates (invitation): no password yet, the address not yet proven. */
export interface InvitedUser {
  id: UserId;
  email: Email;
  firstName: string | null;
  lastName: string | null;
  roles: string[];
  /** The inviting admin's user id. */
  invitedBy: string;
}
