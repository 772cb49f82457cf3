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
}
