/**
 * How a login attempt ended, as the metrics count it: a closed set, so a label can never carry who tried.
 * `invalid_credentials` covers unknown accounts and wrong passwords alike (as the answer does).
 */
export type LoginResult =
  | 'success'
  | 'invalid_credentials'
  | 'locked'
  | 'email_not_verified'
  | 'account_disabled'
  | 'rate_limited'
  | 'other';

/**
 * Counters of security-relevant outcomes for operators (Prometheus in production, nothing in unit tests).
 * Arguments are closed vocabularies: never a user id, email, IP address or token.
 */
export interface SecurityMetrics {
  login(result: LoginResult): void;
  /** An identifier was locked after too many failed logins. */
  lockout(): void;
  /** A replaced refresh token was presented after the grace window; its session was revoked. */
  refreshTokenReuse(): void;
  /** A request was refused by the quota of a rate-limit group (`login`, `register` ...). */
  rateLimitRefusal(group: string): void;
}
