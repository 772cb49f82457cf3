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
    const token = bearerToken(ctx.get('Authorization'));
    if (token === undefined) {
      throw HttpErrors.unauthenticated();
    }
    ctx.state.principal = await validate.execute({ token });
    await next();
  };
}

/** The b64token of an `Authorization: Bearer ...` header, or undefined when there is none or it is malformed. */
export function bearerToken(header: string | undefined): string | undefined {
  return header === undefined ? undefined : BEARER.exec(header)?.[1];
}

/** The principal of a route behind bearerAuth; its absence is a wiring bug, answered as unauthenticated. */
export function principalOf(ctx: HttpContext): Principal {
  const principal = ctx.state.principal;
  if (!principal) throw HttpErrors.unauthenticated();
  return principal;
}
