import type { Middleware } from 'koa';
import type { Principal, ValidateAccessToken } from '@application/session/validate-access-token';
import { DomainError } from '@domain/shared/domain-error';
import type { HttpContext, HttpState } from '../http-state';

/** RFC 6750 §2.1: `Bearer` (any case), one space or more, a b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** Protected routes: resolves the access token to a Principal (signature, revocation, account status). */
export function bearerAuth(validate: ValidateAccessToken): Middleware<HttpState> {
  return async (ctx, next) => {
    const token = BEARER.exec(ctx.get('Authorization'))?.[1];
    if (token === undefined) {
      throw new DomainError('UNAUTHENTICATED', 'A bearer access token is required.');
    }
    ctx.state.principal = await validate.execute({ token });
    await next();
  };
}

/** The principal of a route behind bearerAuth; its absence is a wiring bug, answered as unauthenticated. */
export function principalOf(ctx: HttpContext): Principal {
  const principal = ctx.state.principal;
  if (!principal) throw new DomainError('UNAUTHENTICATED', 'A bearer access token is required.');
  return principal;
}
