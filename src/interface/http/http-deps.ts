import type { Logger as PinoLogger } from 'pino';
import type { LoginWithPassword } from '@application/auth/login-with-password';
import type { Logout } from '@application/auth/logout';
import type { RefreshSession } from '@application/auth/refresh-session';
import type { RegisterUser } from '@application/auth/register-user';
import type { ResendVerification } from '@application/auth/resend-verification';
import type { ValidateAccessToken } from '@application/auth/validate-access-token';
import type { VerifyEmail } from '@application/auth/verify-email';
import type { GetCurrentUser } from '@application/users/get-current-user';
import type { RateLimiter } from '@application/ports/rate-limiter';
import type { RouteRateLimits } from './middleware/rate-limit';
import type { ChangePassword } from '@application/auth/change-password';
import type { ConfirmPasswordReset } from '@application/auth/confirm-password-reset';
import type { RequestPasswordReset } from '@application/auth/request-password-reset';
import type { DeleteAccount } from '@application/users/delete-account';
import type { ListSessions } from '@application/users/list-sessions';
import type { RevokeSession } from '@application/users/revoke-session';
import type { UpdateCredentials } from '@application/users/update-credentials';
import type { UpdateProfile } from '@application/users/update-profile';

export interface HealthChecks {
  database: 'up' | 'down';
  cache: 'up' | 'down';
  broker: 'up' | 'down';
}

export interface HttpConfig {
  /** Body size limit in bytes (default 16 KiB). */
  bodyLimitBytes: number;
  /** Allowed CORS origins; empty = CORS off. */
  corsOrigins: string[];
  /** Peers (IPs) whose X-Forwarded-For is trusted; empty = use the socket address only. */
  trustedProxies: string[];
  /** Whether verification is required (register answers 202 instead of 201). */
  requireEmailVerification: boolean;
  /** Per-IP quotas count IPv6 clients by this many leading bits (RATE_LIMIT_IPV6_PREFIX, default 64). */
  rateLimitIpv6Prefix?: number;
  /** Per route group, the per-IP and per-identifier quotas (RATE_LIMIT_* variables). */
  rateLimits: Record<RateLimitedRoutes, RouteRateLimits>;
}

export type RateLimitedRoutes = 'login' | 'register' | 'verify' | 'password_reset' | 'refresh' | 'current_password';

/** Everything the HTTP adapter needs; the composition root builds it. Handlers call one use case each. */
export interface HttpDeps {
  config: HttpConfig;
  logger: PinoLogger;
  useCases: {
    registerUser: RegisterUser;
    verifyEmail: VerifyEmail;
    resendVerification: ResendVerification;
    login: LoginWithPassword;
    refreshSession: RefreshSession;
    logout: Logout;
    validateAccessToken: ValidateAccessToken;
    getCurrentUser: GetCurrentUser;
    requestPasswordReset: RequestPasswordReset;
    confirmPasswordReset: ConfirmPasswordReset;
    changePassword: ChangePassword;
    updateProfile: UpdateProfile;
    updateCredentials: UpdateCredentials;
    deleteAccount: DeleteAccount;
    listSessions: ListSessions;
    revokeSession: RevokeSession;
  };
  /** Counts requests for the rate limits: shared by every instance with Redis, in-process otherwise. */
  rateLimiter: RateLimiter;
  /** RFC 7517 JWK Set of the published signing keys. */
  jwks: () => Promise<{ keys: Record<string, string>[] }>;
  /** Dependency checks for /health/ready ('up' also for embedded parts). */
  health: () => Promise<HealthChecks>;
}
