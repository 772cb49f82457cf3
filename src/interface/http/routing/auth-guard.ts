import type { Middleware } from 'koa';
import type { ValidateAccessToken } from '@application/session/validate-access-token';
import { DomainError } from '@domain/shared/domain-error';
import { HttpError } from '../errors/http-error';
import type { HttpState } from '../http-state';
import { bearerAuth, principalOf } from '../middleware/bearer-auth';
import type { AuthRequirement } from './route';

/**
 * The middleware that enforces a route's `auth` before the body is read. 'client' routes are guarded after the
 * body by clientGuard (client credentials may be in it: RFC 6749 §2.3.1) and the mount never asks this for
 * them; asked anyway, it refuses every caller, so a 'client' route is never reachable by a user token.
 */
export function authGuard(auth: AuthRequirement, validate: () => ValidateAccessToken): Middleware<HttpState>[] {
  if (auth === 'none') return [];
  if (auth === 'client') return [refuseClient];
  const bearer = bearerAuth(validate());
  if (auth === 'user') return [bearer];
  return [bearer, requireRole(auth.role)];
}

const refuseClient: Middleware<HttpState> = async () => {
  throw new HttpError('UNAUTHENTICATED', 'A service client access token is required.', { 'WWW-Authenticate': 'Basic' });
};

/**
 * The principal's `user` was read from the database by ValidateAccessToken on this request (and refused if
 * suspended): the account's current roles decide, not the token's `roles` claim, so a demotion bites at once.
 * Service tokens never get here (ValidateAccessToken answers them FORBIDDEN).
 */
function requireRole(role: string): Middleware<HttpState> {
  return async (ctx, next) => {
    if (!principalOf(ctx).user.roles.includes(role)) {
      throw new DomainError('FORBIDDEN', 'You do not have permission to do this.');
    }
    await next();
  };
}
