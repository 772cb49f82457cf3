import type { Router } from '@koa/router';
import { DeleteAccountDto, UpdateCredentialsDto, UpdateProfileDto, assertSomethingToChange } from '../dto/account.dto';
import { toDto } from '../dto/validate-dto';
import { respond } from '../envelope';
import type { HttpDeps } from '../http-deps';
import type { HttpState } from '../http-state';
import { bearerAuth, principalOf } from '../middleware/bearer-auth';
import { jsonBody } from '../middleware/json-body';
import { limitByIp, limitByUser } from '../middleware/rate-limit';
import { presentSession } from '../presenters/session.presenter';
import { presentUser } from '../presenters/user.presenter';

/** The signed-in user's own account: profile, credentials, deletion, sessions. Authenticate before reading bodies. */
export function registerAccountRoutes(router: Router<HttpState>, deps: HttpDeps): void {
  const uc = deps.useCases;
  const json = jsonBody({ limitBytes: deps.config.bodyLimitBytes });
  const bearer = bearerAuth(uc.validateAccessToken);
  const me = '/api/v1/users/me';
  // The routes that check the current password: per IP, then per signed-in user, before the body is read.
  const checked = deps.config.rateLimits.current_password;
  const limited = [limitByIp(deps.rateLimiter, checked.ip), bearer, limitByUser(deps.rateLimiter, checked.identifier)] as const;

  router.patch(me, bearer, json, async (ctx) => {
    const dto = await toDto(UpdateProfileDto, ctx.state.body);
    const { user } = principalOf(ctx);
    const updated = await uc.updateProfile.execute({
      userId: user.id,
      username: dto.username,
      firstName: dto.first_name,
      lastName: dto.last_name,
      client: ctx.state.client,
    });
    respond(ctx, 200, { user: presentUser(updated) });
  });

  router.delete(me, ...limited, json, async (ctx) => {
    const dto = await toDto(DeleteAccountDto, ctx.state.body);
    const { user, claims } = principalOf(ctx);
    await uc.deleteAccount.execute({ userId: user.id, sessionId: claims.sid, password: dto.password, client: ctx.state.client });
    respond(ctx, 200, { message: 'Your account has been deleted.' });
  });

  router.put(`${me}/credentials`, ...limited, json, async (ctx) => {
    const dto = await toDto(UpdateCredentialsDto, ctx.state.body);
    assertSomethingToChange(dto);
    const { user, claims } = principalOf(ctx);
    const updated = await uc.updateCredentials.execute({
      userId: user.id,
      sessionId: claims.sid,
      currentPassword: dto.current_password,
      email: dto.email,
      username: dto.username,
      client: ctx.state.client,
    });
    respond(ctx, 200, { user: presentUser(updated) });
  });

  router.get(`${me}/sessions`, bearer, async (ctx) => {
    const { user, claims } = principalOf(ctx);
    const sessions = await uc.listSessions.execute({ userId: user.id, currentSessionId: claims.sid });
    respond(ctx, 200, { sessions: sessions.map((s) => presentSession(s.session, s.current)) });
  });

  router.delete(`${me}/sessions/:id`, bearer, async (ctx) => {
    await uc.revokeSession.execute({ userId: principalOf(ctx).user.id, sessionId: ctx.params.id ?? '', client: ctx.state.client });
    respond(ctx, 200, { message: 'The session has been signed out.' });
  });
}
