import type { User, UserStatus } from '@domain/user/user';

export interface UserView {
  id: string;
  email: string;
  username: string | null;
  first_name: string | null;
  last_name: string | null;
  status: UserStatus;
  email_verified: boolean;
  roles: string[];
  mfa_enabled: boolean;
  created_at: string;
  updated_at: string;
  last_login_at: string | null;
}

/** The admin API's user: the user resource and when its login lock ends. */
export interface AdminUserView extends UserView {
  /** The end of the login lock in effect (any status), or null. */
  locked_until: string | null;
}

/**
 * Explicit whitelist (CONTRACT §2): credentials and anything added to the aggregate later never leak by default.
 * `status` is the stored one: the account's owner and the services asking /auth/validate never see `locked`,
 * which anyone typing the address with wrong passwords can cause (a service refusing whatever is not `active`
 * would refuse the owner for it); the admin API shows it (presentAdminUser).
 */
export function presentUser(user: User): UserView {
  const state = user.toState();
  return {
    id: state.id,
    email: state.email,
    username: state.username,
    first_name: state.firstName,
    last_name: state.lastName,
    status: state.status,
    email_verified: state.emailVerified,
    roles: [...state.roles],
    mfa_enabled: state.mfaEnabled,
    created_at: state.createdAt.toISOString(),
    updated_at: state.updatedAt.toISOString(),
    last_login_at: state.lastLoginAt?.toISOString() ?? null,
  };
}

/**
 * Every user the admin API answers with: presentUser, with `status` `locked` while an active account's login lock
 * lasts (User.statusAt, at `now`: the request's instant, of the Clock port), and `locked_until`.
 */
export function presentAdminUser(user: User, now: Date): AdminUserView {
  return { ...presentUser(user), status: user.statusAt(now), locked_until: user.lockedUntilAt(now)?.toISOString() ?? null };
}
