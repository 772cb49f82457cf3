/**
 * The one error type of the SDK. `code` is a CONTRACT §1 code taken from auth-service's answer (INVALID_TOKEN,
 * INVALID_CREDENTIALS, ...), `AUTH_UNAVAILABLE` when auth-service could not be reached (or the circuit is open),
 * or, for the OAuth endpoints, the RFC 6749 §5.2 `error` upper-cased (INVALID_CLIENT, INVALID_SCOPE, ...).
 * Messages never carry a token or a secret.
 */
export type AuthErrorCode =
  | 'UNAUTHENTICATED'
  | 'INVALID_TOKEN'
  | 'FORBIDDEN'
  | 'VALIDATION_ERROR'
  | 'AUTH_UNAVAILABLE'
  | 'UNEXPECTED_RESPONSE'
  | (string & {});

export class AuthError extends Error {
  override readonly name = 'AuthError';

  constructor(
    readonly code: AuthErrorCode,
    readonly status: number,
    message: string,
    readonly details?: Record<string, unknown>,
    /** The request id auth-service answered with, to find its log lines. */
    readonly requestId?: string,
    /**
     * The wait the answer's Retry-After asked for, in whole seconds (an ACCOUNT_LOCKED's lock, a RATE_LIMITED's
     * window, a 503's pause), when it named one ahead; the service sends it as a header only, not in the body.
     */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export const unauthenticated = (): AuthError => new AuthError('UNAUTHENTICATED', 401, 'A bearer token is required.');
export const invalidToken = (): AuthError => new AuthError('INVALID_TOKEN', 401, 'The access token is invalid or expired.');
export const forbidden = (): AuthError => new AuthError('FORBIDDEN', 403, 'The token lacks a required role or scope.');
export const unavailable = (why: string, details?: Record<string, unknown>, retryAfterSeconds?: number): AuthError =>
  new AuthError('AUTH_UNAVAILABLE', 503, `auth-service is unavailable: ${why}`, details, undefined, retryAfterSeconds);
/** The AUTH_UNAVAILABLE errors answerLost made. */
const LOST_ANSWERS = new WeakSet<AuthError>();

/**
 * A request that was sent, or may have been, and whose answer never came (a timeout, a reset connection, an answer
 * cut off while read): AUTH_UNAVAILABLE like any failure to reach the service, and marked (isAnswerLost), since the
 * service may have carried it out. For a refresh that means the refresh token may already be spent: session.ts
 * sends it again at once, inside the service's grace window. Not a failure that sent nothing (a refused connection).
 */
export function answerLost(why: string): AuthError {
  const error = unavailable(why);
  LOST_ANSWERS.add(error);
  return error;
}

export function isAnswerLost(error: unknown): boolean {
  return error instanceof AuthError && LOST_ANSWERS.has(error);
}

/**
 * The caller's input cannot make an HTTP request (a header value, the URL, the body): nothing was sent, so it is
 * not the service being unavailable. `why` is the SDK's own wording, never the input (it may be a token).
 */
export const notSent = (why: string): AuthError => new AuthError('VALIDATION_ERROR', 400, `The request was not sent: ${why}.`);
/** The circuit is open: no request was sent, so retrying now is pointless. */
export const circuitOpen = (): AuthError => unavailable('circuit open', { circuit: 'open' });

/**
 * Worth another try: the service was not reached or answered 5xx (not when the circuit refused the call, nor when
 * the service asked to be asked less often: a rate limit is an answer, and another try now would meet it again).
 */
export function isTransient(error: unknown): boolean {
  return error instanceof AuthError && error.status >= 500 && error.details?.circuit !== 'open' && error.details?.rate_limited !== true;
}

/**
 * The service answered that it is too busy to hash a password now (503 with `details.service: ["busy"]`, since stop
 * 65): an answer, not a failure to reach it, so the circuit does not count it (five of them, from a login flood,
 * opened one client's circuit for every other call of every user: a review of shared state).
 */
export function isBusy(error: unknown): boolean {
  const service = error instanceof AuthError ? error.details?.service : undefined;
  return Array.isArray(service) && service.includes('busy');
}

/** A failure the circuit breaker counts: transient, and not the service's own load refusal (isBusy). */
export function countsAgainstCircuit(error: unknown): boolean {
  return isTransient(error) && !isBusy(error);
}

export function isAuthError(error: unknown): error is AuthError {
  return error instanceof AuthError;
}

/**
 * An access token is a JWT or an opaque string of visible ASCII (RFC 6750's b64token is a subset of it). Anything
 * else is not a token auth-service issued, and some of it (a line break, a NUL, a character above U+00FF) cannot
 * even go into a header: INVALID_TOKEN at once, as the service would answer. No token at all: UNAUTHENTICATED.
 */
const TOKEN = /^[\x21-\x7e]+$/;

export function checkedToken(token: unknown): string {
  if (typeof token !== 'string' || token === '') throw unauthenticated();
  if (!TOKEN.test(token)) throw invalidToken();
  return token;
}
