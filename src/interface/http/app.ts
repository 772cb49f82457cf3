import { Router } from '@koa/router';
import Koa from 'koa';
import type { HttpDeps } from './http-deps';
import type { HttpState } from './http-state';
import { httpMetrics } from './metrics/http-metrics';
import { clientIp } from './middleware/client-ip';
import { errorHandler } from './middleware/error-handler';
import { requestId } from './middleware/request-id';
import { loggedPath, requestLogger } from './middleware/request-logger';
import { routeFallback } from './middleware/route-fallback';
import { corsPolicy, noStore, securityHeaders, securityHeaderValues } from './middleware/security';
import { ROUTES } from './routes';
import { mountRoutes } from './routing/mount';
import { bearerLane } from './bearer-lane';
import type { RequestHandler } from './lane';
import { staticLane } from './static-lane';
import { API_V1 } from './routing/paths';

export const API_PREFIX = API_V1;

/**
 * The HTTP adapter. Order matters: the request id comes first so that every response carries it, the logger
 * wraps the error handler so it logs the final status, and the error handler wraps everything that can throw.
 * Usable directly with supertest: `request(createHttpApp(deps).callback())`.
 */
export function createHttpApp(deps: HttpDeps): Koa<HttpState> {
  const routes = deps.routes ?? ROUTES;
  const cors = corsPolicy(deps.config.corsOrigins);
  // JWKS and metadata: precomputed bodies answered in front of Koa (static-lane.ts), no per-request work.
  // /auth/validate and /users/me: the bearer check and the view in front of Koa too (bearer-lane.ts).
  const lane = { resolve: deps.resolve, headers: securityHeaderValues(), cors: cors !== null, metrics: deps.metrics, logger: deps.logger };
  const app = new ServiceHttpApp((koa) => staticLane(routes, lane, bearerLane(routes, lane, koa)));
  // Paths match in their exact case: `/API/V1/users/me` is no route (404), so no response escapes noStore()'s
  // prefix check or the lanes, which also compare exact paths.
  const router = new Router<HttpState>({ sensitive: true });
  mountRoutes(router, routes, { config: deps.config, resolve: deps.resolve });

  app.use(requestId());
  app.use(requestLogger(deps.logger));
  // Outside the error handler: it observes the final status, mapped errors included.
  if (deps.metrics) app.use(httpMetrics(deps.metrics, deps.config.rateLimits));
  app.use(errorHandler());
  app.use(securityHeaders());
  if (cors) app.use(cors);
  app.use(noStore(API_V1));
  app.use(clientIp(deps.config.trustedProxies, deps.config.rateLimitIpv6Prefix));
  app.use(router.routes());
  app.use(routeFallback(router));
  // Only errors thrown outside the error handler get here (none are expected); keep them in the structured log. A
  // connection the client reset before the answer reaches it too (Koa hands on-finished's socket error to onerror):
  // no failure of the service, and anyone could force one error line with a stack per connection (an outside review,
  // 2026-12-08): logged at info, without the stack.
  app.on('error', (error: unknown, ctx?: Koa.ParameterizedContext<HttpState>) => {
    if (!connectionLost(error)) deps.logger.error({ err: error }, 'koa error');
    else deps.logger.info({ request_id: ctx?.state.requestId, method: ctx?.method, path: ctx ? loggedPath(ctx.path) : undefined, code: error.code }, 'client connection lost before the answer');
  });
  return app;
}

/**
 * The socket errors of a connection the peer dropped: a reset (RST), a write after its close. Not
 * ERR_STREAM_PREMATURE_CLOSE: Koa's pipeline of a stream body reports a source that ended early with it, a fault of
 * the server's.
 */
const CONNECTION_LOST = new Set(['ECONNRESET', 'EPIPE']);

function connectionLost(error: unknown): error is { code: string } {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' && CONNECTION_LOST.has(error.code);
}

type KoaCallback = ReturnType<Koa['callback']>;

/**
 * Koa whose request handler (callback(): what the HTTP server and supertest use alike) has the static and bearer
 * lanes in front. proxy stays off: the client address is resolved by clientIp() against the configured trusted proxies
 * only.
 */
class ServiceHttpApp extends Koa<HttpState> {
  constructor(private readonly front: (koa: RequestHandler) => RequestHandler) {
    super({ proxy: false });
  }

  override callback(): KoaCallback {
    return this.front(super.callback() as RequestHandler) as KoaCallback;
  }
}
