/**
 * Stable error codes of the domain and the application; the HTTP mapper turns them into statuses. The domain
 * never knows a status. Codes only a transport raises (UNAUTHENTICATED: no bearer token; the quotas' RATE_LIMITED,
 * which the application raises too) live with the HTTP layer (interface/http/errors/http-error.ts).
 */
export type ErrorCode =
  | 'VALIDATION_ERROR'
  | 'INVALID_TOKEN'
  | 'INVALID_CREDENTIALS'
  | 'INVALID_REFRESH_TOKEN'
  | 'INVALID_OR_EXPIRED_TOKEN'
  | 'EMAIL_NOT_VERIFIED'
  | 'ACCOUNT_DISABLED'
  | 'FORBIDDEN'
  | 'ACCOUNT_LOCKED'
  | 'EMAIL_ALREADY_REGISTERED'
  | 'USERNAME_TAKEN'
  | 'CONFLICT'
  | 'WEAK_PASSWORD'
  | 'NOT_FOUND'
  /**
   * Too many at once: besides the HTTP layer's quotas, the application's own refusal of a check that would
   * exceed a user's places while others are still in flight (the current password). Retry-After says when.
   */
  | 'RATE_LIMITED'
  /**
   * A dependency failed after the change was committed; the answer must not say success (see
   * SessionCacheInvalidation). Raised by the application, which alone knows the change committed: not a
   * transport code. Also the password hasher's refusal when hashing is saturated (Errors.hashingBusy).
   */
  | 'SERVICE_UNAVAILABLE';

export type ErrorDetails = Record<string, string[]>;

/**
 * The one error type of the domain and the application (DESIGN 7). Built through the catalogues, never ad hoc:
 * domain/shared/errors.ts for what the domain throws, application/shared/errors.ts (which includes it) for the
 * rest, so that each situation has one code and one message.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetails,
    /** How long the caller should wait before trying again (lockout); becomes Retry-After. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
