import type { HeaderObject, HeadersObject } from 'openapi3-ts/oas31';

/**
 * Response headers the document describes, as the middleware and the error mapper send them. `required`: sent on
 * every response of that status where the header is documented; optional otherwise (OpenAPI's default).
 */

/** Every 429 and every envelope 503 says when to come back (error-mapper.ts, http-error.ts retryAfter). */
export const RETRY_AFTER = {
  description: 'Seconds to wait before trying again (a whole number, at least 1).',
  required: true,
  schema: { type: 'integer', minimum: 1 },
} satisfies HeaderObject;

const POLICY = '"[a-z-]+";q=[0-9]+;w=[0-9]+';

/** The RateLimit-* pair (middleware/rate-limit.ts, draft-ietf-httpapi-ratelimit-headers), CONTRACT §1. */
export const RATE_LIMIT_HEADERS: HeadersObject = {
  'RateLimit-Policy': {
    description:
      'The quotas of this route that the request counted against, e.g. `"login-ip";q=100;w=300` (q requests per w seconds), comma-separated. ' +
      'Sent on every answer of a rate-limited route once its per-IP quota (or, after the bearer or client check, its per-user or per-client quota) ' +
      'has counted the request, errors included; absent when those quotas are off. A per-identifier quota (email, username, token) shows only on the 429 it causes.',
    schema: { type: 'string', pattern: `^${POLICY}(, ${POLICY})*$` },
  },
  RateLimit: {
    description: 'The quota closest to running out: `"<policy>";r=<remaining>;t=<seconds until it resets>`. Sent with RateLimit-Policy.',
    schema: { type: 'string', pattern: '^"[a-z-]+";r=[0-9]+;t=[0-9]+$' },
  },
};

/** What a bearer route's 401 carries (error-mapper.ts, http-error.ts): RFC 6750 §3. */
export function bearerChallenge(required: boolean): HeaderObject {
  return {
    description: 'RFC 6750 §3: `Bearer` without a token (UNAUTHENTICATED), `Bearer error="invalid_token"` for an unusable one (INVALID_TOKEN).',
    required,
    schema: { type: 'string' },
  };
}

/** FORBIDDEN (a role, a service token, a sign-in not recent enough) is RFC 6750 §3.1 insufficient_scope. */
export function insufficientScope(required: boolean): HeaderObject {
  return {
    description: 'With FORBIDDEN: `Bearer error="insufficient_scope"` (RFC 6750 §3.1): the token is authentic but does not allow this.',
    required,
    schema: { type: 'string' },
  };
}

/** More than one Authorization header on a bearer route (bearer-auth.ts): 400 BAD_REQUEST with this challenge. */
export const INVALID_REQUEST_CHALLENGE: HeaderObject = {
  description: 'With BAD_REQUEST for more than one Authorization header: `Bearer error="invalid_request"` (RFC 6750 §3.1).',
  schema: { type: 'string' },
};

/** invalid_client (client-guard.ts, oauth-errors.ts): RFC 6749 §5.2, RFC 7617. */
export const BASIC_CHALLENGE_HEADER = {
  description: 'The HTTP Basic challenge: `Basic realm="auth-service", charset="UTF-8"`.',
  required: true,
  schema: { type: 'string' },
} satisfies HeaderObject;
