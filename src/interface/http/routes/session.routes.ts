import { ListSessions } from '@application/session/list-sessions';
import { LoginWithPassword } from '@application/session/login-with-password';
import { Logout } from '@application/session/logout';
import { RefreshSession } from '@application/session/refresh-session';
import { RevokeSession } from '@application/session/revoke-session';
import { LoginDto, LogoutDto, RefreshDto, loginIdentifier } from '../dto/auth.dto';
import { respond } from '../envelope';
import { rolesStillHeld, type Principal } from '@application/session/validate-access-token';
import { principalOf } from '../middleware/bearer-auth';
import { accountIdentifier, tokenIdentifier } from '../middleware/rate-limit';
import { presentClaims } from '../presenters/claims.presenter';
import { presentSession } from '../presenters/session.presenter';
import { presentTokens } from '../presenters/tokens.presenter';
import { presentUser } from '../presenters/user.presenter';
import { defineRoute } from '../routing/define-route';
import { API_V1 } from '../routing/paths';
import type { RouteDef } from '../routing/route';
import {
  CLAIMS_SCHEMA,
  LOGIN_RESULT_SCHEMA,
  MESSAGE_SCHEMA,
  SESSION_SCHEMA,
  TOKENS_SCHEMA,
  USER_SCHEMA,
} from '../openapi/schemas';

const AUTH = `${API_V1}/auth`;
const BEARER_ERRORS = ['UNAUTHENTICATED', 'INVALID_TOKEN'] as const;

/** Sign-in, token refresh, sign-out, token validation for other services, and the user's own sessions. */
export const SESSION_ROUTES: readonly RouteDef[] = [
  defineRoute({
    method: 'POST',
    path: `${AUTH}/login`,
    summary: 'Sign in with email or username and password',
    tags: ['auth'],
    auth: 'none',
    limit: { group: 'login', identifier: accountIdentifier('email', 'username') },
    body: { dto: LoginDto, check: loginIdentifier },
    responses: { 200: { description: 'Signed in, or (second factor on) the password step done', schema: LOGIN_RESULT_SCHEMA } },
    errors: ['INVALID_CREDENTIALS', 'ACCOUNT_LOCKED', 'EMAIL_NOT_VERIFIED', 'ACCOUNT_DISABLED', 'RATE_LIMITED'],
    uses: LoginWithPassword,
    async handle(ctx, login) {
      const dto = ctx.state.dto;
      const outcome = await login.execute({ identifier: loginIdentifier(dto), password: dto.password, client: ctx.state.client });
      if (outcome.mfaRequired) {
        respond(ctx, 200, { mfa_required: true, mfa_token: outcome.mfaToken, expires_in: outcome.expiresInSeconds });
        return;
      }
      respond(ctx, 200, { user: presentUser(outcome.user), tokens: presentTokens(outcome.tokens) });
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${AUTH}/refresh`,
    summary: 'Rotate a refresh token for a new token pair',
    tags: ['auth'],
    auth: 'none',
    limit: { group: 'refresh', identifier: tokenIdentifier('refresh_token') },
    body: { dto: RefreshDto },
    responses: { 200: { description: 'New tokens', schema: { type: 'object', properties: { tokens: TOKENS_SCHEMA }, required: ['tokens'] } } },
    errors: ['INVALID_REFRESH_TOKEN', 'RATE_LIMITED'],
    uses: RefreshSession,
    async handle(ctx, refresh) {
      const tokens = await refresh.execute({ refreshToken: ctx.state.dto.refresh_token, client: ctx.state.client });
      respond(ctx, 200, { tokens: presentTokens(tokens) });
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${AUTH}/logout`,
    summary: 'Sign out this session, the others, or all',
    tags: ['auth'],
    auth: 'user',
    body: { dto: LogoutDto, optional: true },
    responses: { 200: { description: 'Signed out', schema: MESSAGE_SCHEMA } },
    errors: [...BEARER_ERRORS],
    uses: Logout,
    async handle(ctx, logout) {
      const { user, claims } = principalOf(ctx);
      await logout.execute({ userId: user.id, sessionId: claims.sid, scope: ctx.state.dto.scope ?? 'local', client: ctx.state.client });
      respond(ctx, 200, { message: 'You have been logged out.' });
    },
  }),
  defineRoute({
    method: 'GET',
    path: `${AUTH}/validate`,
    summary: 'Validate an access token (signature, revocation, account status)',
    tags: ['auth'],
    auth: 'user',
    responses: {
      200: {
        description: 'The token is valid',
        schema: { type: 'object', properties: { valid: { const: true }, user: USER_SCHEMA, claims: CLAIMS_SCHEMA }, required: ['valid', 'user', 'claims'] },
      },
    },
    errors: [...BEARER_ERRORS],
    principalView: validationView,
    async handle(ctx) {
      respond(ctx, 200, validationView(principalOf(ctx)));
    },
  }),
  defineRoute({
    method: 'GET',
    path: `${API_V1}/users/me/sessions`,
    summary: "List the signed-in user's sessions",
    tags: ['users'],
    auth: 'user',
    responses: {
      200: { description: 'Active sessions', schema: { type: 'object', properties: { sessions: { type: 'array', items: SESSION_SCHEMA } }, required: ['sessions'] } },
    },
    errors: [...BEARER_ERRORS],
    uses: ListSessions,
    async handle(ctx, list) {
      const { user, claims } = principalOf(ctx);
      const sessions = await list.execute({ userId: user.id, currentSessionId: claims.sid });
      respond(ctx, 200, { sessions: sessions.map(presentSession) });
    },
  }),
  defineRoute({
    method: 'DELETE',
    path: `${API_V1}/users/me/sessions/:id`,
    summary: 'Sign out one of your sessions',
    tags: ['users'],
    auth: 'user',
    responses: { 200: { description: 'Signed out', schema: MESSAGE_SCHEMA } },
    errors: [...BEARER_ERRORS, 'NOT_FOUND'],
    uses: RevokeSession,
    async handle(ctx, revoke) {
      const { user, claims } = principalOf(ctx);
      await revoke.execute({ userId: user.id, sessionId: (ctx.params.id ?? '').toLowerCase(), currentSessionId: claims.sid, client: ctx.state.client });
      respond(ctx, 200, { message: 'The session has been signed out.' });
    },
  }),
];

/**
 * The bearer check is the validation: nothing more to call. The claims are the token's, but for the roles the account
 * no longer holds (taken away since it was signed), as /oauth/introspect answers them.
 */
function validationView({ user, claims }: Principal): object {
  return { valid: true, user: presentUser(user), claims: presentClaims({ ...claims, roles: rolesStillHeld(claims, user) }) };
}
