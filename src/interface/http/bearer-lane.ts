import type { Logger } from 'pino';
import { ValidateAccessToken } from '@application/session/validate-access-token';
import { metaFor } from './envelope';
import { INTERNAL_ERROR, mapError } from './errors/error-mapper';
import { HttpErrors } from './errors/http-error';
import type { Resolver } from './http-deps';
import type { HttpMetrics } from './metrics/http-metrics';
import { bearerToken } from './middleware/bearer-auth';
import { requestIdFor } from './middleware/request-id';
import type { RouteDef } from './routing/route';
import type { RequestHandler } from './static-lane';

export interface BearerLaneOptions {
  resolve: Resolver;
  /** The security headers the general path sets (securityHeaderValues), captured once. */
  headers: Readonly<Record<string, string>>;
  /** CORS is on: a request with an Origin header goes to Koa, whose CORS middleware answers it. */
  cors: boolean;
  metrics?: HttpMetrics;
  logger: Logger;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * `/auth/validate` and `/users/me` (routes with `principalView`) in front of Koa: a GET of exactly their path is
 * answered here, the way the general path answers it, for a fraction of the work. The bearer token is checked by
 * the same ValidateAccessToken, the success envelope holds the route's view of the principal, and every failure
 * is mapped by the error handler's own mapError into the same envelope, status and headers (WWW-Authenticate,
 * Retry-After); an unexpected one is logged with its stack and answered 500. The head is the general path's:
 * helmet's headers, `Cache-Control: no-store` and `Pragma: no-cache` (CONTRACT §1), X-Request-ID, the JSON type
 * and length (`Vary: Origin` when CORS is on), written as one flat list. The request-duration metric and the
 * access-log line are recorded as the general path records them. HEAD, a query string and a request with Origin
 * while CORS is on go to Koa, where the routes are still mounted; a test holds both paths' answers equal.
 */
export function bearerLane(routes: readonly RouteDef[], options: BearerLaneOptions, next: RequestHandler): RequestHandler {
  const views = new Map<string, { path: string; view: NonNullable<RouteDef['principalView']> }>();
  for (const route of routes) {
    if (!route.principalView) continue;
    if (route.method !== 'GET' || route.auth !== 'user' || route.body || route.query || route.limit || route.errorFormat || route.staticDocument || route.path.includes(':')) {
      throw new Error(`${route.method} ${route.path}: a principal view is a GET of a fixed path for a signed-in user, with no body, query, quota or error format`);
    }
    views.set(route.path, { path: route.path, view: route.principalView.bind(route) });
  }
  if (views.size === 0) return next;
  const validate = options.resolve(ValidateAccessToken);
  const fixed: string[] = [...Object.entries(options.headers).flat(), 'Cache-Control', 'no-store', 'Pragma', 'no-cache'];
  if (options.cors) fixed.push('Vary', 'Origin');
  const durations = options.metrics?.requestDurations;
  const logger = options.logger;

  return async (req, res) => {
    const entry = req.method === 'GET' ? views.get(req.url ?? '') : undefined;
    if (!entry || (options.cors && req.headers.origin !== undefined)) return next(req, res);
    const started = process.hrtime.bigint();
    const requestId = requestIdFor(req.headers['x-request-id']);
    let status = 200;
    let body: object;
    let extra: Record<string, string> = {};
    try {
      const token = bearerToken(req.headers.authorization);
      if (token === undefined) throw HttpErrors.unauthenticated();
      const principal = await validate.execute({ token });
      body = { success: true, data: entry.view(principal), meta: metaFor(requestId) };
    } catch (error) {
      const mapped = mapError(error);
      if (mapped === null) logger.error({ request_id: requestId, err: error }, 'unhandled error');
      const failure = mapped ?? INTERNAL_ERROR;
      status = failure.status;
      extra = failure.headers;
      body = { success: false, error: failure.body, meta: metaFor(requestId) };
    }
    const json = JSON.stringify(body);
    const headers = [...fixed, 'X-Request-ID', requestId, ...Object.entries(extra).flat(), 'Content-Type', JSON_TYPE, 'Content-Length', String(Buffer.byteLength(json))];
    res.writeHead(status, headers);
    res.end(json);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    durations?.observe({ method: 'GET', route: entry.path, status: String(status) }, seconds);
    const level = status >= 500 ? 'error' : 'info';
    if (logger.isLevelEnabled(level)) {
      const fields = { request_id: requestId, method: 'GET', path: entry.path, status, duration_ms: Math.round(seconds * 1e5) / 100 };
      if (level === 'error') logger.error(fields, 'request failed');
      else logger.info(fields, 'request completed');
    }
  };
}
