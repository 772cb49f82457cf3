import type { SessionLifetimes } from '@domain/session/session';
import type { RateLimitPolicy } from '../ports/rate-limiter';

/** Policy values the use cases need, taken from the validated configuration by the composition root. */
export interface AuthSettings {
  requireEmailVerification: boolean;
  passwordMinLength: number;
  refreshTokenTtlSeconds: number;
  sessionMaxLifetimeSeconds: number;
  refreshGraceSeconds: number;
  verificationTokenTtlSeconds: number;
  /** Base of the links in emails; never taken from a request. */
  publicUrl: string;
  /**
   * Mails to an address someone else typed to claim it (a sign-up at the route, an email change in the use case),
   * counted per canonical address in one quota (RATE_LIMIT_REGISTER_ID); null = off.
   */
  claimsPerAddress: RateLimitPolicy | null;
  /** SESSION_MAX_PER_USER: live sessions an account keeps; a sign-in past it ends the oldest (SessionLimit). */
  maxSessionsPerUser: number;
}

/** The session limits configured now (REFRESH_TOKEN_TTL, SESSION_MAX_LIFETIME), which every session is judged by. */
export function sessionLifetimes(settings: AuthSettings): SessionLifetimes {
  return { idleSeconds: settings.refreshTokenTtlSeconds, absoluteSeconds: settings.sessionMaxLifetimeSeconds };
}
