import { Router } from '@koa/router';
import Koa from 'koa';
import type { HttpDeps } from './http-deps';
import type { HttpState } from './http-state';
import { httpMetrics } from './metrics/http-metrics';
import { mountMetricsRoutes } from './metrics/interim-mount';
import { clientIp } from './middleware/client-ip';
import { errorHandler } from './middleware/error-handler';
import { requestId } from './middleware/request-id';
import { requestLogger } from './middleware/request-logger';
import { routeFallback } from './middleware/route-fallback';
import { corsPolicy, noStore, securityHeaders } from './middleware/security';
import { registerAccountRoutes } from './routes/account.routes';
import { registerAuthRoutes } from './routes/auth.routes';
import { registerHealthRoutes } from './routes/health.routes';
import { registerPasswordRoutes } from './routes/password.routes';
import { registerUserRoutes } from './routes/users.routes';
import { registerWellKnownRoutes } from './routes/well-known.routes';

export const API_PREFIX = '/api/v1';

/**
 * The HTTP adapter. Order matters: the request id comes first so that every response carries it, the logger
 * wraps the error handler so it logs the final status, and the error handler wraps everything that can throw.
 * Usable directly with supertest: `request(createHttpApp(deps).callback())`.
 */
export function createHttpApp(deps: HttpDeps): Koa<HttpState> {
  // proxy stays off: the client address is resolved by clientIp() against the configured trusted proxies only.
  const app = new Koa<HttpState>({ proxy: false });
  const router = new Router<HttpState>();
  registerAuthRoutes(router, deps);
  registerUserRoutes(router, deps);
  registerPasswordRoutes(router, deps);
  registerAccountRoutes(router, deps);
  registerWellKnownRoutes(router, deps);
  registerHealthRoutes(router, deps);
  mountMetricsRoutes(router, deps.metrics.endpoint); // until METRICS_ROUTES is in the route table

  app.use(requestId());
  app.use(requestLogger(deps.logger));
  // Outside the error handler: it observes the final status, mapped errors included.
  app.use(httpMetrics(deps.metrics, deps.config.rateLimits));
  app.use(errorHandler());
  app.use(securityHeaders());
  const cors = corsPolicy(deps.config.corsOrigins);
  if (cors) app.use(cors);
  app.use(noStore(API_PREFIX));
  app.use(clientIp(deps.config.trustedProxies, deps.config.rateLimitIpv6Prefix));
  app.use(router.routes());
  app.use(routeFallback(router));
  // Only errors thrown outside the error handler get here (none are expected); keep them in the structured log.
  app.on('error', (error: unknown) => deps.logger.error({ err: error }, 'koa error'));
  return app;
}
