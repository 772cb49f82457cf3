import type { Middleware, ParameterizedContext } from 'koa';
import { AuthError, forbidden } from './errors';
import type { VerifiedToken, VerifyOptions } from './verified-token';

export interface MiddlewareOptions {
  /** The token must carry at least one of these roles (user tokens). */
  roles?: string[];
  /** The token must carry every one of these scopes (service tokens, RFC 6749 §3.3). */
  scopes?: string[];
  /** Ask auth-service too (introspection), so a revoked session is refused at once. */
  online?: boolean;
  /**
   * The kinds of token the route takes (default both). With neither `roles` nor `scopes` a service token (`subject`
   * = a client id) passes as well as a user's: a route that reads `subject` as a user id says `['user']`.
   */
  tokenTypes?: ReadonlyArray<'user' | 'service'>;
}

export interface AuthState {
  auth: VerifiedToken;
}

type Verify = (token: string | undefined, options?: VerifyOptions) => Promise<VerifiedToken>;

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Koa middleware: reads `Authorization: Bearer`, verifies, checks roles and scopes, sets `ctx.state.auth`.
 * Refusals answer in the CONTRACT §1 envelope: 401 UNAUTHENTICATED / INVALID_TOKEN with WWW-Authenticate,
 * 403 FORBIDDEN, 503 AUTH_UNAVAILABLE. Errors thrown further down the chain are not touched.
 */
export function authMiddleware(verify: Verify, options: MiddlewareOptions): Middleware<AuthState> {
  return async (ctx, next) => {
    let verified: VerifiedToken;
    try {
      if (authorizationHeaders(ctx.req.rawHeaders) > 1) throw ambiguous();
      verified = await verify(bearerToken(ctx.get('authorization')), { online: options.online ?? false });
      if (!allowed(verified, options)) throw forbidden();
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      refuse(ctx, error);
      return;
    }
    ctx.state.auth = verified;
    await next();
  };
}

/**
 * RFC 6750 §3.1 invalid_request: Node keeps the first of several Authorization headers and drops the rest, while
 * a proxy in front may read another; such a request is refused (400), as auth-service itself does.
 */
function authorizationHeaders(rawHeaders: readonly string[]): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === 'authorization') count += 1;
  return count;
}

const ambiguous = (): AuthError => new AuthError('BAD_REQUEST', 400, 'The request has more than one Authorization header.');

function bearerToken(header: string): string | undefined {
  const match = /^Bearer +([^\s]+) *$/i.exec(header);
  return match?.[1];
}

function allowed(token: VerifiedToken, options: MiddlewareOptions): boolean {
  if (options.tokenTypes && !options.tokenTypes.includes(token.tokenType)) return false;
  const roles = options.roles ?? [];
  const scopes = options.scopes ?? [];
  if (roles.length > 0 && !roles.some((role) => token.roles.includes(role))) return false;
  return scopes.every((scope) => token.scopes.includes(scope));
}

function refuse(ctx: ParameterizedContext, error: AuthError): void {
  const known = ['BAD_REQUEST', 'UNAUTHENTICATED', 'INVALID_TOKEN', 'FORBIDDEN', 'AUTH_UNAVAILABLE'].includes(error.code);
  const code = known ? error.code : 'AUTH_UNAVAILABLE';
  const status = { BAD_REQUEST: 400, UNAUTHENTICATED: 401, INVALID_TOKEN: 401, FORBIDDEN: 403 }[code as string] ?? 503;
  if (code === 'BAD_REQUEST') ctx.set('WWW-Authenticate', 'Bearer error="invalid_request"');
  if (code === 'UNAUTHENTICATED') ctx.set('WWW-Authenticate', 'Bearer');
  if (code === 'INVALID_TOKEN') ctx.set('WWW-Authenticate', 'Bearer error="invalid_token"');
  if (code === 'FORBIDDEN') ctx.set('WWW-Authenticate', 'Bearer error="insufficient_scope"');
  if (code === 'AUTH_UNAVAILABLE') ctx.set('Retry-After', '5');
  const incoming = ctx.get('x-request-id');
  const requestId = REQUEST_ID.test(incoming) ? incoming : globalThis.crypto.randomUUID();
  ctx.set('X-Request-ID', requestId);
  ctx.set('Cache-Control', 'no-store');
  ctx.status = status;
  ctx.body = {
    success: false,
    // An AUTH_UNAVAILABLE error's message names the upstream failure (status, timeout): for the operator's
    // log, not for the API's callers.
    error: { code, message: known && code !== 'AUTH_UNAVAILABLE' ? error.message : 'auth-service is unavailable.' },
    meta: { request_id: requestId, timestamp: new Date().toISOString(), version: 'v1' },
  };
}
