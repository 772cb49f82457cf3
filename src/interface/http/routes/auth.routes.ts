import type { Router } from '@koa/router';
import {
  LoginDto,
  LogoutDto,
  RefreshDto,
  RegisterDto,
  ResendVerificationDto,
  VerifyEmailDto,
  loginIdentifier,
} from '../dto/auth.dto';
import { toDto } from '../dto/validate-dto';
import { respond } from '../envelope';
import type { HttpDeps } from '../http-deps';
import type { HttpState } from '../http-state';
import { bearerAuth, principalOf } from '../middleware/bearer-auth';
import { jsonBody } from '../middleware/json-body';
import { accountIdentifier, limitByIdentifier, limitByIp, tokenIdentifier } from '../middleware/rate-limit';
import { presentClaims } from '../presenters/claims.presenter';
import { presentTokens } from '../presenters/tokens.presenter';
import { presentUser } from '../presenters/user.presenter';

/** Identical for new and already-registered addresses, so the answer reveals nothing (CONTRACT §3). */
export const REGISTER_ACCEPTED = 'Check your inbox: we have sent an email to confirm the address.';
export const RESEND_ACCEPTED = 'If the address belongs to an account awaiting verification, a new email has been sent.';

export function registerAuthRoutes(router: Router<HttpState>, deps: HttpDeps): void {
  const uc = deps.useCases;
  const json = jsonBody({ limitBytes: deps.config.bodyLimitBytes });
  const optionalJson = jsonBody({ limitBytes: deps.config.bodyLimitBytes, optional: true });
  const bearer = bearerAuth(uc.validateAccessToken);
  const base = '/api/v1/auth';
  const limits = deps.config.rateLimits;
  const perIp = (group: keyof typeof limits) => limitByIp(deps.rateLimiter, limits[group].ip);
  const perId = (group: keyof typeof limits, of: Parameters<typeof limitByIdentifier>[2]) =>
    limitByIdentifier(deps.rateLimiter, limits[group].identifier, of);

  router.post(`${base}/register`, perIp('register'), json, perId('register', accountIdentifier('email')), async (ctx) => {
    const dto = await toDto(RegisterDto, ctx.state.body);
    const result = await uc.registerUser.execute({
      email: dto.email,
      password: dto.password,
      username: dto.username ?? undefined,
      firstName: dto.first_name ?? undefined,
      lastName: dto.last_name ?? undefined,
      client: ctx.state.client,
    });
    if (result.kind === 'accepted') return respond(ctx, 202, { message: REGISTER_ACCEPTED });
    respond(ctx, 201, { user: presentUser(result.user), tokens: presentTokens(result.tokens) });
  });

  router.post(`${base}/verify`, perIp('verify'), json, perId('verify', tokenIdentifier('token')), async (ctx) => {
    const dto = await toDto(VerifyEmailDto, ctx.state.body);
    const user = await uc.verifyEmail.execute({ token: dto.token, client: ctx.state.client });
    respond(ctx, 200, { user: presentUser(user) });
  });

  router.post(`${base}/verify/resend`, perIp('verify'), json, perId('verify', accountIdentifier('email')), async (ctx) => {
    const dto = await toDto(ResendVerificationDto, ctx.state.body);
    await uc.resendVerification.execute({ email: dto.email, client: ctx.state.client });
    respond(ctx, 202, { message: RESEND_ACCEPTED });
  });

  router.post(`${base}/login`, perIp('login'), json, perId('login', accountIdentifier('email', 'username')), async (ctx) => {
    const dto = await toDto(LoginDto, ctx.state.body);
    const identifier = loginIdentifier(dto);
    const { user, tokens } = await uc.login.execute({ identifier, password: dto.password, client: ctx.state.client });
    respond(ctx, 200, { user: presentUser(user), tokens: presentTokens(tokens) });
  });

  router.post(`${base}/refresh`, perIp('refresh'), json, perId('refresh', tokenIdentifier('refresh_token')), async (ctx) => {
    const dto = await toDto(RefreshDto, ctx.state.body);
    const tokens = await uc.refreshSession.execute({ refreshToken: dto.refresh_token, client: ctx.state.client });
    respond(ctx, 200, { tokens: presentTokens(tokens) });
  });

  // Authenticate before reading the body: an anonymous caller gets 401 without the body being parsed.
  router.post(`${base}/logout`, bearer, optionalJson, async (ctx) => {
    const dto = await toDto(LogoutDto, ctx.state.body);
    const { user, claims } = principalOf(ctx);
    await uc.logout.execute({ userId: user.id, sessionId: claims.sid, scope: dto.scope ?? 'local', client: ctx.state.client });
    respond(ctx, 200, { message: 'You have been logged out.' });
  });

  router.get(`${base}/validate`, bearer, async (ctx) => {
    const { user, claims } = principalOf(ctx);
    respond(ctx, 200, { valid: true, user: presentUser(user), claims: presentClaims(claims) });
  });
}
