/** The CONTRACT §2 and §3 shapes the AuthClient sends and receives (snake_case, as on the wire). */
export interface User {
  id: string;
  email: string;
  username: string | null;
  first_name: string | null;
  last_name: string | null;
  status: 'pending_verification' | 'active' | 'locked' | 'suspended';
  email_verified: boolean;
  roles: string[];
  mfa_enabled: boolean;
  created_at: string;
  updated_at: string;
  last_login_at: string | null;
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
  expires_at: string;
  refresh_expires_at: string;
}

export interface RegisterBody {
  email: string;
  password: string;
  username?: string;
  first_name?: string;
  last_name?: string;
}
/** Verification required (the default): `{message}`; not required: `{user, tokens}`. */
export type RegisterResult = { message: string } | { user: User; tokens: Tokens };

export type LoginBody = ({ email: string } | { username: string }) & { password: string };
export type LoginResult = { user: User; tokens: Tokens } | { mfa_required: true; mfa_token: string; expires_in: number };

export type VerifyMfaBody = { mfa_token: string } & ({ code: string } | { backup_code: string });

export interface RefreshBody {
  refresh_token: string;
}

export type LogoutScope = 'local' | 'others' | 'global';

export interface ValidateResult {
  valid: true;
  user: User;
  claims: Record<string, unknown>;
}

export interface Message {
  message: string;
}
