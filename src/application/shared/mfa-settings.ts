import type { RateLimitPolicy } from '../ports/rate-limiter';

/** The second factor's policy values, from the validated configuration (MFA_ISSUER, RATE_LIMIT_MFA_ID). */
export interface MfaSettings {
  /** Shown by authenticator apps beside the account (`otpauth://totp/<issuer>:<email>?issuer=<issuer>`). */
  issuer: string;
  /** Lifetime of the token between the password step and the code (CONTRACT §4: 5 minutes). */
  challengeTtlSeconds: number;
  /** Second-step attempts per account (whatever the IP), counted before the code is checked; null = off. */
  verifyPerAccount: RateLimitPolicy | null;
}

/** 10 codes of 60 bits each (CONTRACT: at least 50). */
export const RECOVERY_CODE_COUNT = 10;
