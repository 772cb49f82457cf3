import type { Router } from '@koa/router';
import type { Middleware } from 'koa';
import { PORTS } from '@application/ports/tokens';
import { RecordAdminRefusal } from '@application/admin/record-admin-refusal';
import { AuthenticateClient } from '@application/oauth/authenticate-client';
import { ValidateAccessToken } from '@application/session/validate-access-token';
import { knownMembers, toDto } from '../dto/validate-dto';
import type { HttpConfig, Resolver } from '../http-deps';
import type { HttpState } from '../http-state';
import { jsonBody } from '../middleware/json-body';
import { oauthErrors } from '../middleware/oauth-errors';
import { parametersBody } from '../middleware/parameters-body';
import { limitByClient, limitByIdentifier, limitByIp, limitByUser } from '../middleware/rate-limit';
import { authGuard } from './auth-guard';
import { clientGuard } from './client-guard';
import { requestBodyOf } from './request-body';
import type { RouteContext, RouteDef } from './route';

export interface MountOptions {
  config: HttpConfig;
  resolve: Resolver;
}

/**
 * The one place a route's chain is built from its entry (DESIGN 10). Services are resolved here, once, so a
 * missing binding fails when the app is built, not on the first request.
 */
export function mountRoutes(router: Router<HttpState>, routes: readonly RouteDef[], options: MountOptions): void {
  for (const route of routes) {
    router.register(route.path, [route.method.toLowerCase()], chainOf(route, options));
  }
}

/**
 * In the order the routes have always used: the route label first (metrics); the OAuth error shape around the
 * rest when the route asks for it; per-IP limit before anything costs work; the bearer check before the body
 * (an anonymous caller gets 401 unparsed); per-user limit after the bearer, before the body; the JSON (or
 * form) body; the client guard (its credentials may be in the body) and the per-client limit; DTO validation;
 * the per-identifier limit (a malformed request is no attempt on the identifier it names); the handler.
 */
export function chainOf(route: RouteDef, { config, resolve }: MountOptions): Middleware<HttpState>[] {
  const limiter = () => resolve(PORTS.RateLimiter);
  const quota = route.limit ? config.rateLimits[route.limit.group] : null;
  const identifier = route.limit?.identifier;
  const chain: Middleware<HttpState>[] = [labelled(route)];
  if (route.errorFormat === 'oauth') chain.push(oauthErrors());
  if (quota) chain.push(limitByIp(limiter(), quota.ip));
  if (route.auth !== 'client') chain.push(...authGuard(route.auth, () => resolve(ValidateAccessToken), () => resolve(RecordAdminRefusal)));
  if (quota && identifier === 'user') chain.push(limitByUser(limiter(), quota.identifier));
  // A POST, PUT or PATCH route without a body of its own gets the empty one (request-body.ts).
  const body = requestBodyOf(route);
  if (body?.form) chain.push(parametersBody({ limitBytes: config.bodyLimitBytes }));
  else if (body) chain.push(jsonBody({ limitBytes: config.bodyLimitBytes, optional: body.optional ?? false }));
  if (route.auth === 'client') chain.push(clientGuard(resolve(AuthenticateClient)));
  if (quota && identifier === 'client') chain.push(limitByClient(limiter(), quota.identifier));
  chain.push(validated(route));
  // After validation: a request refused as malformed is not an attempt on the identifier it names. Until stop 48 the
  // quota was taken first, and 20 bodies naming a victim's address without a password (400 each, from anywhere)
  // spent its login quota: the owner's right password got 429, with no failed login audited (an outside review).
  if (quota && typeof identifier === 'function') chain.push(limitByIdentifier(limiter(), quota.identifier, identifier));
  chain.push(handler(route, resolve));
  return chain;
}

function labelled(route: RouteDef): Middleware<HttpState> {
  const label = { method: route.method, path: route.path };
  return async (ctx, next) => {
    ctx.state.route = label;
    await next();
  };
}

/** The query and body as the route's DTOs (400 VALIDATION_ERROR otherwise), into `state.query` and `state.dto`. */
function validated(route: RouteDef): Middleware<HttpState> {
  const body = requestBodyOf(route);
  const query = route.query;
  return async (ctx, next) => {
    const routeCtx = ctx as RouteContext;
    if (query) routeCtx.state.query = await toDto(query.dto, { ...ctx.query });
    // Form routes ignore parameters their DTO does not declare (RFC 6749 §3.1); the others reject them.
    if (body) routeCtx.state.dto = await toDto(body.dto, body.form ? knownMembers(body.dto, ctx.state.body) : ctx.state.body);
    if (body?.check) body.check(routeCtx.state.dto);
    await next();
  };
}

function handler(route: RouteDef, resolve: Resolver): Middleware<HttpState> {
  const service = route.uses === undefined ? undefined : resolve(route.uses);
  const clock = resolve(PORTS.Clock);
  return async (ctx) => {
    const routeCtx = ctx as RouteContext;
    routeCtx.state.now = clock.now();
    await route.handle(routeCtx, service);
  };
}
