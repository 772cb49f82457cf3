import type { Router } from '@koa/router';
import { PasswordChangeDto, PasswordResetConfirmDto, PasswordResetRequestDto } from '../dto/account.dto';
import { toDto } from '../dto/validate-dto';
import { respond } from '../envelope';
import type { HttpDeps } from '../http-deps';
import type { HttpState } from '../http-state';
import { bearerAuth, principalOf } from '../middleware/bearer-auth';
import { jsonBody } from '../middleware/json-body';
import { accountIdentifier, limitByIdentifier, limitByIp, limitByUser, tokenIdentifier } from '../middleware/rate-limit';

/** Identical for unknown, unverified and verified addresses (CONTRACT §3). */
export const RESET_ACCEPTED = 'If the address belongs to an account, an email with a link to reset the password has been sent.';

/** Password reset (anonymous, by email link) and change (signed in, current password required). */
export function registerPasswordRoutes(router: Router<HttpState>, deps: HttpDeps): void {
  const uc = deps.useCases;
  const json = jsonBody({ limitBytes: deps.config.bodyLimitBytes });
  const bearer = bearerAuth(uc.validateAccessToken);
  const base = '/api/v1/auth/password';
  // Reset request and confirmation share the per-IP quota; the login lockout never applies here.
  const limits = deps.config.rateLimits.password_reset;
  const perIp = limitByIp(deps.rateLimiter, limits.ip);

  router.post(`${base}/reset`, perIp, json, limitByIdentifier(deps.rateLimiter, limits.identifier, accountIdentifier('email')), async (ctx) => {
    const dto = await toDto(PasswordResetRequestDto, ctx.state.body);
    await uc.requestPasswordReset.execute({ email: dto.email, client: ctx.state.client });
    respond(ctx, 202, { message: RESET_ACCEPTED });
  });

  router.post(`${base}/confirm`, perIp, json, limitByIdentifier(deps.rateLimiter, limits.identifier, tokenIdentifier('token')), async (ctx) => {
    const dto = await toDto(PasswordResetConfirmDto, ctx.state.body);
    await uc.confirmPasswordReset.execute({ token: dto.token, newPassword: dto.new_password, client: ctx.state.client });
    respond(ctx, 200, { message: 'Your password has been reset. Every session was signed out: sign in with the new password.' });
  });

  const checked = deps.config.rateLimits.current_password;
  const perUser = limitByUser(deps.rateLimiter, checked.identifier);
  router.put(`${base}/change`, limitByIp(deps.rateLimiter, checked.ip), bearer, perUser, json, async (ctx) => {
    const dto = await toDto(PasswordChangeDto, ctx.state.body);
    const { user, claims } = principalOf(ctx);
    await uc.changePassword.execute({
      userId: user.id,
      sessionId: claims.sid,
      currentPassword: dto.current_password,
      newPassword: dto.new_password,
      client: ctx.state.client,
    });
    respond(ctx, 200, { message: 'Your password has been changed. Your other sessions were signed out.' });
  });
}
