import type { Logger as PinoLogger } from 'pino';
import type { LoginWithPassword } from '@application/session/login-with-password';
import type { Logout } from '@application/session/logout';
import type { RefreshSession } from '@application/session/refresh-session';
import type { RegisterUser } from '@application/account/register-user';
import type { ResendVerification } from '@application/account/resend-verification';
import type { ValidateAccessToken } from '@application/session/validate-access-token';
import type { VerifyEmail } from '@application/account/verify-email';
import type { GetCurrentUser } from '@application/account/get-current-user';
import type { RateLimiter } from '@application/ports/rate-limiter';
import type { RouteRateLimits } from './middleware/rate-limit';
import type { HttpMetrics } from './metrics/http-metrics';
import type { ChangePassword } from '@application/password/change-password';
import type { ConfirmPasswordReset } from '@application/password/confirm-password-reset';
import type { RequestPasswordReset } from '@application/password/request-password-reset';
import type { DeleteAccount } from '@application/account/delete-account';
import type { ListSessions } from '@application/session/list-sessions';
import type { RevokeSession } from '@application/session/revoke-session';
import type { UpdateCredentials } from '@application/account/update-credentials';
import type { UpdateProfile } from '@application/account/update-profile';

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
  /** Request durations, security counters and the /metrics endpoint of this application's registry. */
  metrics: HttpMetrics;
  /** RFC 7517 JWK Set of the published signing keys. */
  jwks: () => Promise<{ keys: Record<string, string>[] }>;
  /** Dependency checks for /health/ready ('up' also for embedded parts). */
  health: () => Promise<HealthChecks>;
}
