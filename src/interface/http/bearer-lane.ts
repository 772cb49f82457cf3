import { type Principal, ValidateAccessToken } from '@application/session/validate-access-token';
import { metaFor, successJson } from './envelope';
import { INTERNAL_ERROR, mapError } from './errors/error-mapper';
import { HttpErrors } from './errors/http-error';
import { fixedHead, laneMayAnswer, type LaneOptions, type RequestHandler, requestRecorder } from './lane';
import { bearerToken } from './middleware/bearer-auth';
import { requestIdFor } from './middleware/request-id';
import type { RouteDef } from './routing/route';

const JSON_TYPE = 'application/json; charset=utf-8';
/** Renderings kept per route: the hot tokens' (a rendering is ~1 KB). */
export const RENDERINGS_KEPT = 1000;

type PrincipalView = NonNullable<RouteDef['principalView']>;

/**
 * A route's view of the principal as JSON, reused while the token and the account state it was rendered from are
 * the same: the same token carries the same claims, and the local cache's entry (Principal.snapshot) is the same
 * object exactly while the account state is unchanged. The revocation checks still run on every request (in
 * ValidateAccessToken, before this); only the rendering is reused. Bounded, oldest out first.
 */
function renderer(view: PrincipalView): (token: string, principal: Principal) => string {
  const kept = new Map<string, { snapshot: object; json: string }>();
  return (token, principal) => {
    const { snapshot } = principal;
    if (snapshot === undefined) return JSON.stringify(view(principal));
    const hit = kept.get(token);
    if (hit !== undefined && hit.snapshot === snapshot) return hit.json;
    const json = JSON.stringify(view(principal));
    if (hit === undefined && kept.size >= RENDERINGS_KEPT) kept.delete(kept.keys().next().value!);
    kept.set(token, { snapshot, json });
    return json;
  };
}

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
export function bearerLane(routes: readonly RouteDef[], options: LaneOptions, next: RequestHandler): RequestHandler {
  const views = new Map<string, { path: string; render: (token: string, principal: Principal) => string }>();
  for (const route of routes) {
    if (!route.principalView) continue;
    if (route.method !== 'GET' || route.auth !== 'user' || route.body || route.query || route.limit || route.errorFormat || route.staticDocument || route.path.includes(':')) {
      throw new Error(`${route.method} ${route.path}: a principal view is a GET of a fixed path for a signed-in user, with no body, query, quota or error format`);
    }
    views.set(route.path, { path: route.path, render: renderer(route.principalView.bind(route)) });
  }
  if (views.size === 0) return next;
  const validate = options.resolve(ValidateAccessToken);
  const fixed = fixedHead(options, { 'Cache-Control': 'no-store', Pragma: 'no-cache' });
  const record = requestRecorder(options);

  return async (req, res) => {
    const entry = req.method === 'GET' ? views.get(req.url ?? '') : undefined;
    if (!entry || !laneMayAnswer(options, req)) return next(req, res);
    const started = process.hrtime.bigint();
    const requestId = requestIdFor(req.headers['x-request-id']);
    let status = 200;
    let json: string;
    let extra: Record<string, string> = {};
    try {
      const token = bearerToken(req.headers.authorization, req.rawHeaders);
      if (token === undefined) throw HttpErrors.unauthenticated();
      const principal = await validate.execute({ token });
      json = successJson(entry.render(token, principal), requestId);
    } catch (error) {
      const mapped = mapError(error);
      if (mapped === null) options.logger.error({ request_id: requestId, err: error }, 'unhandled error');
      else if (mapped.outage) options.logger.warn({ request_id: requestId, err: error }, mapped.warning ?? 'dependency unreachable');
      const failure = mapped ?? INTERNAL_ERROR;
      status = failure.status;
      extra = failure.headers;
      json = JSON.stringify({ success: false, error: failure.body, meta: metaFor(requestId) });
    }
    const headers = [...fixed, 'X-Request-ID', requestId, ...Object.entries(extra).flat(), 'Content-Type', JSON_TYPE, 'Content-Length', String(Buffer.byteLength(json))];
    const gone = req.socket.destroyed; // before the answer, as the general path's log decides
    res.writeHead(status, headers);
    res.end(json);
    record(requestId, 'GET', entry.path, status, started, req.socket, gone);
  };
}
