/** Stable error codes; the HTTP mapper turns them into statuses. The domain never knows a status. */
export type ErrorCode =
  | 'VALIDATION_ERROR'
  | 'UNAUTHENTICATED'
  | 'INVALID_TOKEN'
  | 'INVALID_CREDENTIALS'
  | 'INVALID_REFRESH_TOKEN'
  | 'INVALID_OR_EXPIRED_TOKEN'
  | 'EMAIL_NOT_VERIFIED'
  | 'ACCOUNT_DISABLED'
  | 'FORBIDDEN'
  | 'ACCOUNT_LOCKED'
  | 'RATE_LIMITED'
  | 'EMAIL_ALREADY_REGISTERED'
  | 'USERNAME_TAKEN'
  | 'WEAK_PASSWORD'
  | 'NOT_FOUND'
  /** A dependency failed after the change was committed; the answer must not say success (see SessionCacheInvalidation). */
  | 'SERVICE_UNAVAILABLE';

export type ErrorDetails = Record<string, string[]>;

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetails,
    /** How long the caller should wait before trying again (lockout, rate limit); becomes Retry-After. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  static validation(field: string, message: string): DomainError {
    return new DomainError('VALIDATION_ERROR', 'The request is invalid.', { [field]: [message] });
  }
}
