import { DeleteUser } from '@application/admin/delete-user';
import { GetUserDetails } from '@application/admin/get-user-details';
import { GetUserStats } from '@application/admin/get-user-stats';
import { InviteUser } from '@application/admin/invite-user';
import { ListAuditEvents } from '@application/admin/list-audit-events';
import { ListUsers } from '@application/admin/list-users';
import { RevokeUserSessions } from '@application/admin/revoke-user-sessions';
import { SendPasswordReset } from '@application/admin/send-password-reset';
import { UnlockUser } from '@application/admin/unlock-user';
import { UpdateUser } from '@application/admin/update-user';
import { RemoveUserMfa } from '@application/admin/remove-user-mfa';
import type { AdminActor } from '@application/admin/admin-guard';
import type { AuditEventType } from '@application/ports/audit-log';
import type { UserSort } from '@application/ports/user-directory';
import type { UserStatus } from '@domain/user/user';
import { Errors } from '@application/shared/errors';
import { AuditEventsQueryDto, InviteUserDto, ListUsersQueryDto, NoQueryDto, UpdateUserDto } from '../dto/admin.dto';
import { respond } from '../envelope';
import type { HttpContext } from '../http-state';
import { principalOf } from '../middleware/bearer-auth';
import { MESSAGE_SCHEMA } from '../openapi/schemas';
import { ADMIN_USER_DATA_SCHEMA, AUDIT_EVENTS_SCHEMA, REVOKED_SCHEMA, STATS_SCHEMA, USER_DETAILS_SCHEMA, USER_LIST_SCHEMA } from '../openapi/admin-schemas';
import { decodeCursor, encodeCursor, instantRange, intParam, presentAuditEvent, presentStats } from '../presenters/admin.presenter';
import { presentSession } from '../presenters/session.presenter';
import { presentAdminUser } from '../presenters/user.presenter';
import { defineRoute } from '../routing/define-route';
import { API_V1 } from '../routing/paths';
import type { RouteDef, RouteErrorCode } from '../routing/route';

const ADMIN = `${API_V1}/admin`;
const USER = `${ADMIN}/users/:id`;
/** Every admin route: bearer with the admin role, checked against the database (see ValidateAccessToken). */
const AUTH = { role: 'admin' } as const;
const TAGS = ['admin'];
const GUARD: RouteErrorCode[] = ['UNAUTHENTICATED', 'INVALID_TOKEN', 'FORBIDDEN'];

function actorOf(ctx: HttpContext): AdminActor {
  const { user, claims } = principalOf(ctx);
  return { id: user.id, sessionId: claims.sid, client: ctx.state.client };
}

/** Ids are UUIDs, stored in lower case: a path spelling one in capitals names the same account. */
function idOf(ctx: HttpContext): string {
  return String((ctx as HttpContext & { params: Record<string, string> }).params['id']).toLowerCase();
}

/** The admin API (CONTRACT §3, issue 12), with support's MFA removal (issue 10). */
export const ADMIN_ROUTES: readonly RouteDef[] = [
  defineRoute({
    method: 'GET',
    path: `${ADMIN}/users`,
    summary: 'List and search users',
    tags: TAGS,
    auth: AUTH,
    query: { dto: ListUsersQueryDto },
    responses: { 200: { description: 'One page of users', schema: USER_LIST_SCHEMA } },
    errors: GUARD,
    uses: ListUsers,
    async handle(ctx, list) {
      const q = ctx.state.query;
      const page = intParam(q.page, 1);
      const limit = intParam(q.limit, 20);
      const result = await list.execute({
        page,
        limit,
        search: q.search,
        status: q.status as UserStatus | undefined,
        role: q.role,
        sort: (q.sort ?? 'created_at') as UserSort,
        order: q.order === 'asc' ? 'asc' : 'desc',
      });
      const totalPages = Math.ceil(result.total / limit);
      respond(ctx, 200, {
        users: result.users.map((u) => presentAdminUser(u, ctx.state.now)),
        pagination: { page, limit, total: result.total, total_pages: totalPages, has_next: result.hasNext, has_prev: page > 1 },
      });
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${ADMIN}/users`,
    summary: 'Invite a user (no password; a 72 h link sets one)',
    tags: TAGS,
    auth: AUTH,
    body: { dto: InviteUserDto },
    responses: { 201: { description: 'Created; the invitation email is queued', schema: ADMIN_USER_DATA_SCHEMA } },
    errors: [...GUARD, 'EMAIL_ALREADY_REGISTERED'],
    uses: InviteUser,
    async handle(ctx, invite) {
      const dto = ctx.state.dto;
      const user = await invite.execute({ actor: actorOf(ctx), email: dto.email, firstName: dto.first_name, lastName: dto.last_name, roles: dto.roles });
      respond(ctx, 201, { user: presentAdminUser(user, ctx.state.now) });
    },
  }),
  defineRoute({
    method: 'GET',
    path: USER,
    summary: 'A user and their live sessions',
    tags: TAGS,
    auth: AUTH,
    query: { dto: NoQueryDto },
    responses: { 200: { description: 'The user and sessions', schema: USER_DETAILS_SCHEMA } },
    errors: [...GUARD, 'NOT_FOUND'],
    uses: GetUserDetails,
    async handle(ctx, details) {
      const { user, sessions } = await details.execute({ userId: idOf(ctx) });
      respond(ctx, 200, { user: presentAdminUser(user, ctx.state.now), sessions: sessions.map(presentSession) });
    },
  }),
  defineRoute({
    method: 'PATCH',
    path: USER,
    summary: 'Suspend or reinstate, change roles, confirm the email address',
    tags: TAGS,
    auth: AUTH,
    body: { dto: UpdateUserDto },
    responses: { 200: { description: 'The updated user', schema: ADMIN_USER_DATA_SCHEMA } },
    errors: [...GUARD, 'NOT_FOUND', 'CONFLICT'],
    uses: UpdateUser,
    async handle(ctx, update) {
      const dto = ctx.state.dto;
      if (dto.status === undefined && dto.roles === undefined && dto.email_verified === undefined) {
        throw Errors.invalidRequest({ status: ['one of status, roles or email_verified is required'] });
      }
      const user = await update.execute({ actor: actorOf(ctx), userId: idOf(ctx), status: dto.status, roles: dto.roles, emailVerified: dto.email_verified });
      respond(ctx, 200, { user: presentAdminUser(user, ctx.state.now) });
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${USER}/unlock`,
    summary: 'Clear failed logins and the login lockout',
    tags: TAGS,
    auth: AUTH,
    responses: { 200: { description: 'The user', schema: ADMIN_USER_DATA_SCHEMA } },
    errors: [...GUARD, 'NOT_FOUND'],
    uses: UnlockUser,
    async handle(ctx, unlock) {
      const user = await unlock.execute({ actor: actorOf(ctx), userId: idOf(ctx) });
      respond(ctx, 200, { user: presentAdminUser(user, ctx.state.now) });
    },
  }),
  defineRoute({
    method: 'DELETE',
    path: `${USER}/mfa`,
    summary: "Remove a user's second factor (support: lost device and backup codes); the user is told by email",
    tags: TAGS,
    auth: AUTH,
    responses: { 200: { description: 'The user, without MFA', schema: ADMIN_USER_DATA_SCHEMA } },
    errors: [...GUARD, 'NOT_FOUND', 'CONFLICT'],
    uses: RemoveUserMfa,
    async handle(ctx, remove) {
      const user = await remove.execute({ actor: actorOf(ctx), userId: idOf(ctx) });
      respond(ctx, 200, { user: presentAdminUser(user, ctx.state.now) });
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${USER}/sessions/revoke`,
    summary: 'Revoke every session of a user',
    tags: TAGS,
    auth: AUTH,
    responses: { 200: { description: 'How many sessions were revoked', schema: REVOKED_SCHEMA } },
    errors: [...GUARD, 'NOT_FOUND'],
    uses: RevokeUserSessions,
    async handle(ctx, revoke) {
      const revoked = await revoke.execute({ actor: actorOf(ctx), userId: idOf(ctx) });
      respond(ctx, 200, { revoked });
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${USER}/password-reset`,
    summary: 'Send the user a password-reset email',
    tags: TAGS,
    auth: AUTH,
    responses: { 202: { description: 'The email is queued', schema: MESSAGE_SCHEMA } },
    errors: [...GUARD, 'NOT_FOUND', 'CONFLICT'],
    uses: SendPasswordReset,
    async handle(ctx, send) {
      await send.execute({ actor: actorOf(ctx), userId: idOf(ctx) });
      respond(ctx, 202, { message: 'A password-reset email has been sent to the user.' });
    },
  }),
  defineRoute({
    method: 'DELETE',
    path: USER,
    summary: 'Delete a user',
    tags: TAGS,
    auth: AUTH,
    responses: { 200: { description: 'Deleted', schema: MESSAGE_SCHEMA } },
    errors: [...GUARD, 'NOT_FOUND', 'CONFLICT'],
    uses: DeleteUser,
    async handle(ctx, remove) {
      await remove.execute({ actor: actorOf(ctx), userId: idOf(ctx) });
      respond(ctx, 200, { message: 'The user has been deleted.' });
    },
  }),
  defineRoute({
    method: 'GET',
    path: `${ADMIN}/stats`,
    summary: 'User statistics',
    tags: TAGS,
    auth: AUTH,
    query: { dto: NoQueryDto },
    responses: { 200: { description: 'Counts', schema: STATS_SCHEMA } },
    errors: GUARD,
    uses: GetUserStats,
    async handle(ctx, stats) {
      respond(ctx, 200, presentStats(await stats.execute()));
    },
  }),
  defineRoute({
    method: 'GET',
    path: `${ADMIN}/audit-events`,
    summary: 'The audit trail, newest first (keyset pagination)',
    tags: TAGS,
    auth: AUTH,
    query: { dto: AuditEventsQueryDto },
    responses: { 200: { description: 'One page of audit events', schema: AUDIT_EVENTS_SCHEMA } },
    errors: GUARD,
    uses: ListAuditEvents,
    async handle(ctx, list) {
      const q = ctx.state.query;
      const page = await list.execute({
        filter: {
          subjectId: q.user_id,
          types: q.type === undefined ? undefined : [q.type as AuditEventType],
          ...instantRange(q.since, q.until),
        },
        limit: intParam(q.limit, 50),
        after: decodeCursor(q.cursor),
      });
      respond(ctx, 200, { events: page.records.map(presentAuditEvent), next_cursor: encodeCursor(page.next) });
    },
  }),
];
