import type { ErrorDetails } from '@domain/shared/domain-error';

/**
 * Transport-level failures the domain never sees: media type, size, syntax, routing, a missing bearer token
 * (UNAUTHENTICATED: there is no token to ask the application about) and the HTTP layer's rate limits.
 */
export type HttpErrorCode =
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'PAYLOAD_TOO_LARGE'
  | 'MALFORMED_JSON'
  | 'ROUTE_NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'BAD_REQUEST'
  | 'UNAUTHENTICATED'
  | 'RATE_LIMITED';

export class HttpError extends Error {
  constructor(
    readonly code: HttpErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly details?: ErrorDetails,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** RFC 7617: a Basic challenge names its realm; UTF-8 is what client ids and secrets are decoded as. */
export const BASIC_CHALLENGE = 'Basic realm="auth-service", charset="UTF-8"';

/** The transport's errors whose message or headers are fixed by the contract; one factory each. */
export const HttpErrors = {
  /** RFC 6750 §3: a request without credentials gets the bare challenge, no error code. */
  unauthenticated: (): HttpError =>
    new HttpError('UNAUTHENTICATED', 'A bearer access token is required.', { 'WWW-Authenticate': 'Bearer' }),
  /**
   * RFC 6750 §3.1 invalid_request: more than one Authorization header. Node keeps only the first, while a proxy
   * in front may read another: whose token it is would depend on who reads.
   */
  ambiguousAuthorization: (): HttpError =>
    new HttpError('BAD_REQUEST', 'The request has more than one Authorization header.', { 'WWW-Authenticate': 'Bearer error="invalid_request"' }),
  /** CONTRACT §5: Retry-After in whole seconds, at least 1 (the RateLimit-* headers are set by the limiter). */
  rateLimited: (retryAfterSeconds: number): HttpError =>
    new HttpError('RATE_LIMITED', 'Too many requests. Try again later.', { 'Retry-After': retryAfter(retryAfterSeconds) }),
} as const;

/** Whole seconds, at least 1; a non-finite wait (a broken store) still answers a valid header. */
export function retryAfter(seconds: number): string {
  return String(Number.isFinite(seconds) ? Math.max(1, Math.ceil(seconds)) : 1);
}
