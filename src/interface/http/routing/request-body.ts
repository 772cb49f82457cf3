import type { HttpMethod, RouteDef } from './route';

/**
 * The body of a POST, PUT or PATCH route that declares none (`/auth/mfa/totp/setup`, the admin actions): it
 * declares no member, so toDto refuses every one it is sent (CONTRACT §1: unknown JSON fields are a 400).
 */
export class EmptyBodyDto {}

/** Methods whose requests carry content: one whose route declares no body still reads and checks what comes. */
const CONTENT_METHODS: ReadonlySet<HttpMethod> = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Nothing, or `{}` (what clients send to such routes), like the optional body of logout: no body or an empty
 * one reads as `{}`; anything else goes through the JSON body chain (415 for another media type, 400
 * MALFORMED_JSON, 413) and the empty DTO (400 VALIDATION_ERROR naming each member sent).
 */
const EMPTY_BODY: NonNullable<RouteDef['body']> = { dto: EmptyBodyDto, optional: true };

/**
 * The body a route's chain reads and the OpenAPI document describes: the one it declares, or, for a POST, PUT
 * or PATCH without one, the empty body, so that a body such a route would ignore is refused instead (an
 * outside review, 2026-11-30). GET and DELETE routes without a body do not read one (RFC 9110 §9.3.1, §9.3.5:
 * content there has no defined meaning).
 */
export function requestBodyOf(route: RouteDef): RouteDef['body'] {
  if (route.body) return route.body;
  return CONTENT_METHODS.has(route.method) ? EMPTY_BODY : undefined;
}
