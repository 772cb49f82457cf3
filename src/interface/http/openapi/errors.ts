import type { HeadersObject, ResponseObject, SchemaObject } from 'openapi3-ts/oas31';
import { INTERNAL_ERROR, statusOf } from '../errors/error-mapper';
import { requestBodyOf } from '../routing/request-body';
import type { RouteDef, RouteErrorCode } from '../routing/route';
import { bearerChallenge, INVALID_REQUEST_CHALLENGE, insufficientScope, RETRY_AFTER } from './headers';
import { ERROR_DETAILS_SCHEMA, META_SCHEMA } from './schemas';

/** Every route can answer a malformed request (e.g. a bad URL encoding) and an unexpected failure. */
const EVERY_ROUTE: RouteErrorCode[] = ['BAD_REQUEST', 'INTERNAL_ERROR'];
/** What the JSON body chain answers before the handler runs (json-body.ts, validate-dto.ts). */
const BODY_ROUTE: RouteErrorCode[] = ['VALIDATION_ERROR', 'MALFORMED_JSON', 'UNSUPPORTED_MEDIA_TYPE', 'PAYLOAD_TOO_LARGE'];
/** What the bearer check answers (bearer-auth.ts): a service token on a user's route is a 403 FORBIDDEN. */
const BEARER_ROUTE: RouteErrorCode[] = ['UNAUTHENTICATED', 'INVALID_TOKEN', 'FORBIDDEN'];

/** The 401s answered with a WWW-Authenticate challenge. */
const BEARER_CHALLENGES = new Set<RouteErrorCode>(['UNAUTHENTICATED', 'INVALID_TOKEN']);

/**
 * The headers an error status carries (error-mapper.ts, http-error.ts), required when every code of that status sends
 * them: WWW-Authenticate goes with a missing or bad bearer token only (a wrong password's or refresh token's 401 carries
 * none: documented on every 401 until an outside review, 2026-12-02), and with FORBIDDEN (RFC 6750 insufficient_scope,
 * long sent and not documented), not with EMAIL_NOT_VERIFIED or ACCOUNT_DISABLED.
 */
function errorHeaders(route: RouteDef, status: number, codes: RouteErrorCode[]): HeadersObject | undefined {
  const bearerRoute = route.auth === 'user' || typeof route.auth === 'object';
  if (status === 400 && bearerRoute) return { 'WWW-Authenticate': INVALID_REQUEST_CHALLENGE };
  if (status === 401) {
    const challenged = codes.filter((c) => BEARER_CHALLENGES.has(c));
    return challenged.length > 0 ? { 'WWW-Authenticate': bearerChallenge(challenged.length === codes.length) } : undefined;
  }
  if (status === 403 && codes.includes('FORBIDDEN')) return { 'WWW-Authenticate': insufficientScope(codes.length === 1) };
  if (status === 429 || status === 503) return { 'Retry-After': RETRY_AFTER };
  return undefined;
}

/**
 * The codes a route can answer: its own, those its auth, limit and body imply, and the generic ones. A route
 * with OAuth-shaped errors documents them in its `responses`; only an unexpected failure reaches the envelope.
 */
export function routeErrorCodes(route: RouteDef): RouteErrorCode[] {
  // Only an unexpected failure goes to the envelope (oauth-errors.ts); their 503 is RFC 6749-shaped, in `responses`
  // (documented, and answered, in the envelope until stop 52).
  if (route.errorFormat === 'oauth') return [...new Set<RouteErrorCode>(['INTERNAL_ERROR', ...route.errors])];
  const codes = new Set<RouteErrorCode>(EVERY_ROUTE);
  // Also a POST, PUT or PATCH without a body of its own: it refuses one (routing/request-body.ts).
  if (requestBodyOf(route)) BODY_ROUTE.forEach((c) => codes.add(c));
  // A query string is validated like a body (unknown, repeated or malformed parameters).
  if (route.query) codes.add('VALIDATION_ERROR');
  if (route.auth === 'user' || typeof route.auth === 'object') BEARER_ROUTE.forEach((c) => codes.add(c));
  if (route.limit) codes.add('RATE_LIMITED');
  // What reaches the database or the cache answers 503 while one cannot be reached (error-mapper.ts).
  if (route.auth !== 'none' || route.body || route.query || route.limit) codes.add('SERVICE_UNAVAILABLE');
  route.errors.forEach((c) => codes.add(c));
  return [...codes];
}

/** The status each code is answered with: the error mapper's table, the one source of truth. */
export function errorStatus(code: RouteErrorCode): number {
  return code === 'INTERNAL_ERROR' ? INTERNAL_ERROR.status : statusOf(code);
}

/** By status, the error responses of a route: the error envelope whose `code` is one of that status's codes. */
export function errorResponses(route: RouteDef, ref: (schema: SchemaObject) => SchemaObject): Map<number, ResponseObject> {
  const byStatus = new Map<number, RouteErrorCode[]>();
  for (const code of routeErrorCodes(route)) {
    const status = errorStatus(code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses = new Map<number, ResponseObject>();
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    const sorted = [...codes].sort();
    const headers = errorHeaders(route, status, sorted);
    responses.set(status, {
      description: sorted.join(', '),
      ...(headers ? { headers } : {}),
      content: { 'application/json': { schema: errorEnvelopeSchema(sorted, ref) } },
    });
  }
  return responses;
}

export function errorEnvelopeSchema(codes: string[], ref: (schema: SchemaObject) => SchemaObject): SchemaObject {
  return {
    type: 'object',
    required: ['success', 'error', 'meta'],
    properties: {
      success: { const: false },
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: { type: 'string', enum: codes },
          message: { type: 'string' },
          details: ref(ERROR_DETAILS_SCHEMA),
        },
        additionalProperties: false,
      },
      meta: ref(META_SCHEMA),
    },
    additionalProperties: false,
  };
}
