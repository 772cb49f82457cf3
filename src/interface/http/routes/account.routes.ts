import { DeleteAccount } from '@application/account/delete-account';
import { RegisterUser } from '@application/account/register-user';
import { ResendVerification } from '@application/account/resend-verification';
import { UpdateCredentials } from '@application/account/update-credentials';
import { UpdateProfile } from '@application/account/update-profile';
import { VerifyEmail } from '@application/account/verify-email';
import { ListOwnActivity } from '@application/account/list-own-activity';
import { ActivityQueryDto } from '../dto/admin.dto';
import { ACTIVITY_SCHEMA } from '../openapi/admin-schemas';
import { decodeCursor, encodeCursor, intParam, presentActivity } from '../presenters/admin.presenter';
import { DeleteAccountDto, UpdateCredentialsDto, UpdateProfileDto, assertSomethingToChange } from '../dto/account.dto';
import { RegisterDto, ResendVerificationDto, VerifyEmailDto, checkRegistration } from '../dto/auth.dto';
import { respond } from '../envelope';
import type { Principal } from '@application/session/validate-access-token';
import { principalOf } from '../middleware/bearer-auth';
import { accountIdentifier, recordQuota, tokenIdentifier } from '../middleware/rate-limit';
import { presentTokens } from '../presenters/tokens.presenter';
import { presentUser } from '../presenters/user.presenter';
import { defineRoute } from '../routing/define-route';
import { API_V1 } from '../routing/paths';
import type { RouteDef } from '../routing/route';
import { MESSAGE_SCHEMA, USER_AND_TOKENS_SCHEMA, USER_DATA_SCHEMA } from '../openapi/schemas';

/** Identical for new and already-registered addresses, so the answer reveals nothing (CONTRACT §3). */
export const REGISTER_ACCEPTED = 'Check your inbox: we have sent an email to confirm the address.';
export const RESEND_ACCEPTED = 'If the address belongs to an account awaiting verification, a new email has been sent.';

const AUTH = `${API_V1}/auth`;
const ME = `${API_V1}/users/me`;
const BEARER_ERRORS = ['UNAUTHENTICATED', 'INVALID_TOKEN'] as const;
/** The routes that check the current password: per IP, then per signed-in user, before the body is read. */
const CURRENT_PASSWORD = { group: 'current_password', identifier: 'user' } as const;

/** Registration, email verification, and the signed-in user's own account. */
export const ACCOUNT_ROUTES: readonly RouteDef[] = [
  defineRoute({
    method: 'POST',
    path: `${AUTH}/register`,
    summary: 'Register an account',
    tags: ['auth'],
    auth: 'none',
    // Per IP here; per address (RATE_LIMIT_REGISTER_ID) in RegisterUser, once the request has passed the password
    // policy: a weak password is no attempt on the address (the route spent it before, until stop 63).
    limit: { group: 'register' },
    body: { dto: RegisterDto, check: checkRegistration },
    responses: {
      201: { description: 'Registered and signed in (verification not required)', schema: USER_AND_TOKENS_SCHEMA },
      202: { description: 'Accepted: a confirmation email is on its way (verification required)', schema: MESSAGE_SCHEMA },
    },
    errors: ['EMAIL_ALREADY_REGISTERED', 'USERNAME_TAKEN', 'WEAK_PASSWORD', 'RATE_LIMITED'],
    uses: RegisterUser,
    async handle(ctx, register) {
      const dto = ctx.state.dto;
      const result = await register.execute({
        email: dto.email,
        password: dto.password,
        username: dto.username ?? undefined,
        firstName: dto.first_name ?? undefined,
        lastName: dto.last_name ?? undefined,
        client: ctx.state.client,
        // Shown only on the refusal it causes, as the route's own per-identifier quotas are.
        onQuota: (policy, result) => recordQuota(ctx, policy, result, 'when-refused'),
      });
      if (result.kind === 'accepted') return respond(ctx, 202, { message: REGISTER_ACCEPTED });
      respond(ctx, 201, { user: presentUser(result.user), tokens: presentTokens(result.tokens) });
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${AUTH}/verify`,
    summary: 'Verify an email address with the mailed token',
    tags: ['auth'],
    auth: 'none',
    limit: { group: 'verify', identifier: tokenIdentifier('token') },
    body: { dto: VerifyEmailDto },
    responses: { 200: { description: 'Verified', schema: USER_DATA_SCHEMA } },
    errors: ['INVALID_OR_EXPIRED_TOKEN', 'RATE_LIMITED'],
    uses: VerifyEmail,
    async handle(ctx, verify) {
      const user = await verify.execute({ token: ctx.state.dto.token, client: ctx.state.client });
      respond(ctx, 200, { user: presentUser(user) });
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${AUTH}/verify/resend`,
    summary: 'Send the verification email again',
    tags: ['auth'],
    auth: 'none',
    limit: { group: 'verify', identifier: accountIdentifier('email') },
    body: { dto: ResendVerificationDto },
    responses: { 202: { description: 'Accepted (whether or not the account exists)', schema: MESSAGE_SCHEMA } },
    errors: ['RATE_LIMITED'],
    uses: ResendVerification,
    async handle(ctx, resend) {
      await resend.execute({ email: ctx.state.dto.email, client: ctx.state.client });
      respond(ctx, 202, { message: RESEND_ACCEPTED });
    },
  }),
  defineRoute({
    method: 'GET',
    path: ME,
    summary: 'The signed-in user',
    tags: ['users'],
    auth: 'user',
    responses: { 200: { description: 'The user', schema: USER_DATA_SCHEMA } },
    // No NOT_FOUND (documented until a review): a deleted account's token is INVALID_TOKEN (ValidateAccessToken).
    errors: [...BEARER_ERRORS],
    principalView: meView,
    async handle(ctx) {
      respond(ctx, 200, meView(principalOf(ctx)));
    },
  }),
  defineRoute({
    method: 'PATCH',
    path: ME,
    summary: 'Update the profile (username, names)',
    tags: ['users'],
    auth: 'user',
    limit: { group: 'profile', identifier: 'user' },
    body: { dto: UpdateProfileDto },
    responses: { 200: { description: 'The updated user', schema: USER_DATA_SCHEMA } },
    errors: [...BEARER_ERRORS, 'USERNAME_TAKEN', 'RATE_LIMITED'],
    uses: UpdateProfile,
    async handle(ctx, update) {
      const dto = ctx.state.dto;
      const { user: me, claims } = principalOf(ctx);
      const input = { userId: me.id, sessionId: claims.sid, username: dto.username, firstName: dto.first_name, lastName: dto.last_name };
      const user = await update.execute({ ...input, client: ctx.state.client });
      respond(ctx, 200, { user: presentUser(user) });
    },
  }),
  defineRoute({
    method: 'DELETE',
    path: ME,
    summary: 'Delete the account (current password required)',
    tags: ['users'],
    auth: 'user',
    limit: CURRENT_PASSWORD,
    body: { dto: DeleteAccountDto },
    responses: { 200: { description: 'Deleted', schema: MESSAGE_SCHEMA } },
    // CONFLICT: the last active admin may not leave (CONTRACT §1).
    errors: [...BEARER_ERRORS, 'INVALID_CREDENTIALS', 'RATE_LIMITED', 'CONFLICT'],
    uses: DeleteAccount,
    async handle(ctx, remove) {
      const { user, claims } = principalOf(ctx);
      await remove.execute({ userId: user.id, sessionId: claims.sid, password: ctx.state.dto.password, client: ctx.state.client });
      respond(ctx, 200, { message: 'Your account has been deleted.' });
    },
  }),
  defineRoute({
    method: 'PUT',
    path: `${ME}/credentials`,
    summary: 'Change email and/or username (current password required)',
    tags: ['users'],
    auth: 'user',
    limit: CURRENT_PASSWORD,
    body: { dto: UpdateCredentialsDto },
    responses: { 200: { description: 'The updated user', schema: USER_DATA_SCHEMA } },
    errors: [...BEARER_ERRORS, 'INVALID_CREDENTIALS', 'USERNAME_TAKEN', 'RATE_LIMITED'],
    uses: UpdateCredentials,
    async handle(ctx, update) {
      const dto = ctx.state.dto;
      assertSomethingToChange(dto);
      const { user, claims } = principalOf(ctx);
      const updated = await update.execute({
        userId: user.id,
        sessionId: claims.sid,
        currentPassword: dto.current_password,
        email: dto.email,
        username: dto.username,
        client: ctx.state.client,
        onQuota: (policy, quota) => {
          // Counted as a refusal for the metrics, never shown: the answer is the same as when the mail goes.
          recordQuota(ctx, policy, quota, 'never');
          if (!quota.allowed) ctx.state.log.info({ quota: policy.name }, 'email change: the new address has had its quota of mails; none sent to it');
        },
      });
      respond(ctx, 200, { user: presentUser(updated) });
    },
  }),
  defineRoute({
    method: 'GET',
    path: `${ME}/activity`,
    summary: "The signed-in user's own security activity, newest first",
    tags: ['users'],
    auth: 'user',
    query: { dto: ActivityQueryDto },
    responses: { 200: { description: 'One page of events', schema: ACTIVITY_SCHEMA } },
    errors: [...BEARER_ERRORS],
    uses: ListOwnActivity,
    async handle(ctx, activity) {
      const q = ctx.state.query;
      const page = await activity.execute({ userId: principalOf(ctx).user.id, limit: intParam(q.limit, 20), after: decodeCursor(q.cursor) });
      respond(ctx, 200, { events: page.records.map(presentActivity), next_cursor: encodeCursor(page.next) });
    },
  }),
];

/**
 * The principal's user is the account as it is now (ValidateAccessToken: the database, or the local cache every
 * committed change invalidates at once): no second read. A deleted account never gets here.
 */
function meView({ user }: Principal): object {
  return { user: presentUser(user) };
}
