import { OAuthError } from '@application/oauth/oauth-error';
import { DomainError, type ErrorCode } from '@domain/shared/domain-error';
import { dependencyUnreachable, transactionContended } from '../../dependency-outage';
import type { ErrorBody } from '../envelope';
import { BASIC_CHALLENGE, HttpError, retryAfter, type HttpErrorCode } from './http-error';

/**
 * The one place where stable error codes become HTTP statuses (CONTRACT §1): a `Record` over the domain's and
 * the transport's codes, so a new code without a status does not compile.
 */
const STATUS: Record<ErrorCode | HttpErrorCode, number> = {
  VALIDATION_ERROR: 400,
  MALFORMED_JSON: 400,
  BAD_REQUEST: 400,
  INVALID_OR_EXPIRED_TOKEN: 400,
  WEAK_PASSWORD: 400,
  UNAUTHENTICATED: 401,
  INVALID_TOKEN: 401,
  INVALID_CREDENTIALS: 401,
  INVALID_REFRESH_TOKEN: 401,
  EMAIL_NOT_VERIFIED: 403,
  ACCOUNT_DISABLED: 403,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  EMAIL_ALREADY_REGISTERED: 409,
  USERNAME_TAKEN: 409,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  ACCOUNT_LOCKED: 429,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
};

/** The status a code is answered with; the OpenAPI document reads it here so the two cannot disagree. */
export function statusOf(code: ErrorCode | HttpErrorCode): number {
  return STATUS[code];
}

/** Generic statuses raised by Koa or the router itself (http-errors), kept within the contract's codes. */
const GENERIC: Record<number, HttpErrorCode> = {
  404: 'ROUTE_NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

export interface HttpFailure {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
  /** A dependency could not be reached (503): not a bug, but worth a log line. */
  outage?: true;
  /** That line's message, when not 'dependency unreachable'. */
  warning?: string;
}

const UNREACHABLE: HttpFailure = {
  status: 503,
  body: { code: 'SERVICE_UNAVAILABLE', message: 'The service cannot reach one of its dependencies. Try again shortly.' },
  headers: { 'Retry-After': '5' },
  outage: true,
};

/** Rolled back by the database for a concurrent transaction (dependency-outage.ts): nothing written, retry. */
const CONTENDED: HttpFailure = {
  status: 503,
  body: { code: 'SERVICE_UNAVAILABLE', message: 'The request met a concurrent change and was not carried out. Try again.' },
  headers: { 'Retry-After': '1' },
  outage: true,
  warning: 'transaction rolled back for a concurrent one',
};

export const INTERNAL_ERROR: HttpFailure = {
  status: 500,
  body: { code: 'INTERNAL_ERROR', message: 'An unexpected error occurred.' },
  headers: {},
};

/** Maps a thrown value to its HTTP failure; `null` means unexpected (a bug or an outage), answered with 500. */
export function mapError(error: unknown): HttpFailure | null {
  if (error instanceof DomainError) {
    return failure(STATUS[error.code] ?? 500, error.code, error.message, error.details, domainHeaders(error));
  }
  if (error instanceof HttpError) {
    return failure(STATUS[error.code], error.code, error.message, error.details, error.headers);
  }
  // A 'client' route outside /oauth/* (none yet) answers in the envelope: a failed client authentication is
  // UNAUTHENTICATED with the Basic challenge, any other OAuth refusal a bad request.
  if (error instanceof OAuthError) {
    return error.error === 'invalid_client'
      ? failure(STATUS.UNAUTHENTICATED, 'UNAUTHENTICATED', error.description, undefined, { 'WWW-Authenticate': BASIC_CHALLENGE })
      : failure(STATUS.BAD_REQUEST, 'BAD_REQUEST', error.description, undefined, {});
  }
  const clientStatus = exposedClientStatus(error);
  if (clientStatus !== null) {
    const code = GENERIC[clientStatus] ?? 'BAD_REQUEST';
    return failure(STATUS[code], code, 'The request could not be processed.', undefined, {});
  }
  // An outage is no bug: 503 with a hint to retry, so that a load balancer or client may (it is still logged).
  if (dependencyUnreachable(error)) return UNREACHABLE;
  if (transactionContended(error)) return CONTENDED;
  return null;
}

function failure(
  status: number,
  code: string,
  message: string,
  details: Record<string, string[]> | undefined,
  headers: Record<string, string>,
): HttpFailure {
  const body: ErrorBody = details && Object.keys(details).length > 0 ? { code, message, details } : { code, message };
  return { status, body, headers };
}

function domainHeaders(error: DomainError): Record<string, string> {
  const headers: Record<string, string> = {};
  if (error.code === 'INVALID_TOKEN') headers['WWW-Authenticate'] = 'Bearer error="invalid_token"';
  // RFC 6750 §3.1: an authentic token that does not grant this (a service token, a missing role).
  if (error.code === 'FORBIDDEN') headers['WWW-Authenticate'] = 'Bearer error="insufficient_scope"';
  // A lockout carries how long to wait.
  const wait = error.retryAfterSeconds;
  if (wait !== undefined && Number.isFinite(wait)) headers['Retry-After'] = retryAfter(wait);
  return headers;
}

/** A 4xx that Koa or a library raised on purpose (http-errors with `expose`), e.g. a malformed URL. */
function exposedClientStatus(error: unknown): number | null {
  if (typeof error !== 'object' || error === null) return null;
  const status = numericProperty(error, 'status');
  const expose = 'expose' in error && error.expose === true;
  return expose && status !== null && status >= 400 && status < 500 ? status : null;
}

function numericProperty(value: object, key: string): number | null {
  const found: unknown = (value as Record<string, unknown>)[key];
  return typeof found === 'number' && Number.isFinite(found) ? found : null;
}
