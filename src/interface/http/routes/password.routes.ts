import { ChangePassword } from '@application/password/change-password';
import { ConfirmPasswordReset } from '@application/password/confirm-password-reset';
import { RequestPasswordReset } from '@application/password/request-password-reset';
import { PasswordChangeDto, PasswordResetConfirmDto, PasswordResetRequestDto } from '../dto/account.dto';
import { respond } from '../envelope';
import { principalOf } from '../middleware/bearer-auth';
import { accountIdentifier, tokenIdentifier } from '../middleware/rate-limit';
import { defineRoute } from '../routing/define-route';
import { API_V1 } from '../routing/paths';
import type { RouteDef } from '../routing/route';
import { MESSAGE_SCHEMA } from '../openapi/schemas';

/** Identical for unknown, unverified and verified addresses (CONTRACT §3). */
export const RESET_ACCEPTED = 'If the address belongs to an account, an email with a link to reset the password has been sent.';

const BASE = `${API_V1}/auth/password`;

/**
 * Password reset (anonymous, by email link) and change (signed in, current password required). Reset request
 * and confirmation share the group's per-IP quota; the login lockout never applies here.
 */
export const PASSWORD_ROUTES: readonly RouteDef[] = [
  defineRoute({
    method: 'POST',
    path: `${BASE}/reset`,
    summary: 'Request a password-reset email',
    tags: ['password'],
    auth: 'none',
    limit: { group: 'password_reset', identifier: accountIdentifier('email') },
    body: { dto: PasswordResetRequestDto },
    responses: { 202: { description: 'Accepted (whether or not the account exists)', schema: MESSAGE_SCHEMA } },
    errors: ['RATE_LIMITED'],
    uses: RequestPasswordReset,
    async handle(ctx, request) {
      await request.execute({ email: ctx.state.dto.email, client: ctx.state.client });
      respond(ctx, 202, { message: RESET_ACCEPTED });
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${BASE}/confirm`,
    summary: 'Set a new password with the mailed token',
    tags: ['password'],
    auth: 'none',
    limit: { group: 'password_reset', identifier: tokenIdentifier('token') },
    body: { dto: PasswordResetConfirmDto },
    responses: { 200: { description: 'Password reset; every session signed out', schema: MESSAGE_SCHEMA } },
    errors: ['INVALID_OR_EXPIRED_TOKEN', 'WEAK_PASSWORD', 'RATE_LIMITED'],
    uses: ConfirmPasswordReset,
    async handle(ctx, confirm) {
      await confirm.execute({ token: ctx.state.dto.token, newPassword: ctx.state.dto.new_password, client: ctx.state.client });
      respond(ctx, 200, { message: 'Your password has been reset. Every session was signed out: sign in with the new password.' });
    },
  }),
  defineRoute({
    method: 'PUT',
    path: `${BASE}/change`,
    summary: 'Change the password (current password required)',
    tags: ['password'],
    auth: 'user',
    limit: { group: 'current_password', identifier: 'user' },
    body: { dto: PasswordChangeDto },
    responses: { 200: { description: 'Changed; the other sessions signed out', schema: MESSAGE_SCHEMA } },
    errors: ['UNAUTHENTICATED', 'INVALID_TOKEN', 'INVALID_CREDENTIALS', 'WEAK_PASSWORD', 'RATE_LIMITED'],
    uses: ChangePassword,
    async handle(ctx, change) {
      const dto = ctx.state.dto;
      const { user, claims } = principalOf(ctx);
      await change.execute({
        userId: user.id,
        sessionId: claims.sid,
        currentPassword: dto.current_password,
        newPassword: dto.new_password,
        client: ctx.state.client,
      });
      respond(ctx, 200, { message: 'Your password has been changed. Your other sessions were signed out.' });
    },
  }),
];
