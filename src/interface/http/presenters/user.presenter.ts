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

/** Explicit whitelist (CONTRACT §2): credentials and anything added to the aggregate later never leak by default. */
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
