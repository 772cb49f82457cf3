import type { Middleware } from 'koa';
import type { AdminRefusalReason, RecordAdminRefusal } from '@application/admin/record-admin-refusal';
import type { ValidateAccessToken } from '@application/session/validate-access-token';
import { DomainError } from '@domain/shared/domain-error';
import { UserId } from '@domain/user/user-id';
import { HttpError } from '../errors/http-error';
import type { HttpState } from '../http-state';
import { bearerAuth, principalOf } from '../middleware/bearer-auth';
import type { AuthRequirement } from './route';

/**
 * The middleware that enforces a route's `auth` before the body is read. 'client' routes are guarded after the
 * body by clientGuard (client credentials may be in it: RFC 6749 §2.3.1) and the mount never asks this for
 * them; asked anyway, it refuses every caller, so a 'client' route is never reachable by a user token.
 */
export function authGuard(auth: AuthRequirement, validate: () => ValidateAccessToken, refusals?: () => RecordAdminRefusal): Middleware<HttpState>[] {
  if (auth === 'none') return [];
  if (auth === 'client') return [refuseClient];
  const bearer = bearerAuth(validate());
  if (auth === 'user') return [bearer];
  if (auth.role === 'admin' && refusals) return [bearer, auditAdminRefusals(refusals()), requireRole(auth.role)];
  return [bearer, requireRole(auth.role)];
}

/**
 * Admin routes: a refusal of an authenticated caller, by the role check here or by the use case's guard rails
 * (admin-guard.ts: no longer an admin, acting on themself, the last active admin), is audited (RecordAdminRefusal:
 * `admin.refused`, after the answer) and passed on unchanged.
 */
function auditAdminRefusals(record: RecordAdminRefusal): Middleware<HttpState> {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const { user } = principalOf(ctx);
      const reason = refusalReason(error, user.roles.includes('admin'));
      if (reason !== null) record.execute({ actorId: user.id, subjectId: targetOf(ctx), reason, client: ctx.state.client });
      throw error;
    }
  };
}

function refusalReason(error: unknown, wasAdmin: boolean): AdminRefusalReason | null {
  if (!(error instanceof DomainError)) return null;
  if (error.code === 'FORBIDDEN') return wasAdmin ? 'no_longer_admin' : 'not_admin';
  const why = error.code === 'CONFLICT' ? error.details?.['user_id']?.[0] : undefined;
  return why === 'self' || why === 'last_active_admin' ? why : null;
}

/** The account an admin route names (`/admin/users/:id/...`), when it is one. */
function targetOf(ctx: object): string | null {
  // @koa/router sets `params` on the context of a matched route.
  const id = (ctx as { params?: Record<string, string | undefined> }).params?.['id'];
  return id !== undefined && UserId.isValid(id) ? id.toLowerCase() : null;
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
