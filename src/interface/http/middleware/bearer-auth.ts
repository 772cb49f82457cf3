import type { Middleware } from 'koa';
import type { Principal, ValidateAccessToken } from '@application/session/validate-access-token';
import { HttpErrors } from '../errors/http-error';
import type { HttpContext, HttpState } from '../http-state';

/** RFC 6750 §2.1: `Bearer` (any case), one space or more, a b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * Protected routes: resolves the access token to a Principal (signature, revocation, account status). No token:
 * 401 UNAUTHENTICATED; an unusable one: 401 INVALID_TOKEN; an authentic service token (client credentials, no
 * user): 403 FORBIDDEN, as every bearer route so far is about a user (see ValidateAccessToken).
 */
export function bearerAuth(validate: ValidateAccessToken): Middleware<HttpState> {
  return async (ctx, next) => {
    const token = bearerToken(ctx.get('Authorization'), ctx.req.rawHeaders);
    if (token === undefined) {
      throw HttpErrors.unauthenticated();
    }
    ctx.state.principal = await validate.execute({ token });
    await next();
  };
}

/**
 * The b64token of an `Authorization: Bearer ...` header, or undefined when there is none or it is malformed.
 * Throws 400 (invalid_request) when the request has more than one Authorization header (`rawHeaders`: Node's
 * list of names and values, where the duplicates Node drops are still seen).
 */
export function bearerToken(header: string | undefined, rawHeaders: readonly string[]): string | undefined {
  if (header === undefined) return undefined;
  if (severalAuthorizationHeaders(rawHeaders)) throw HttpErrors.ambiguousAuthorization();
  return BEARER.exec(header)?.[1];
}

/** Whether Node's list of raw header names and values holds more than one Authorization header. */
export function severalAuthorizationHeaders(rawHeaders: readonly string[]): boolean {
  let seen = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === 13 && name.toLowerCase() === 'authorization' && ++seen > 1) return true;
  }
  return false;
}

/** The principal of a route behind bearerAuth; its absence is a wiring bug, answered as unauthenticated. */
export function principalOf(ctx: HttpContext): Principal {
  const principal = ctx.state.principal;
  if (!principal) throw HttpErrors.unauthenticated();
  return principal;
}
