/**
 * Stable error codes of the domain and the application; the HTTP mapper turns them into statuses. The domain
 * never knows a status. Codes only a transport raises (UNAUTHENTICATED: no bearer token; RATE_LIMITED: a
 * quota of the HTTP layer) live with the HTTP layer (interface/http/errors/http-error.ts).
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
   * A dependency failed after the change was committed; the answer must not say success (see
   * SessionCacheInvalidation). Raised by the application, which alone knows the change committed: not a
   * transport code.
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
