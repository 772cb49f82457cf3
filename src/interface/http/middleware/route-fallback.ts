import type { Router } from '@koa/router';
import type { Middleware } from 'koa';
import { HttpError } from '../errors/http-error';
import type { HttpState } from '../http-state';

/**
 * Runs after the router when nothing answered: 405 with Allow when the path exists under another method,
 * 204 with Allow for a plain OPTIONS on such a path, 404 otherwise. Every answer goes through the error envelope.
 */
export function routeFallback(router: Router<HttpState>): Middleware<HttpState> {
  return async (ctx) => {
    const allowed = allowedMethods(router, ctx.path);
    if (allowed.length === 0) return refuse(ctx, 404, new HttpError('ROUTE_NOT_FOUND', 'No route matches this path.'));
    const allow = [...allowed, 'OPTIONS'].join(', ');
    if (ctx.method === 'OPTIONS') {
      ctx.status = 204;
      ctx.set('Allow', allow);
      return;
    }
    refuse(ctx, 405, new HttpError('METHOD_NOT_ALLOWED', 'This method is not allowed on this route.', { Allow: allow }));
  };
}

/**
 * Under /oauth/ the answer keeps the OAuth error shape (CONTRACT §1: no envelope there; RFC 6749 §5.2's
 * `invalid_request`, the status saying which), never cached; elsewhere the error goes to the envelope.
 */
function refuse(ctx: Parameters<Middleware<HttpState>>[0], status: 404 | 405, error: HttpError): void {
  if (!ctx.path.startsWith('/oauth/')) throw error;
  ctx.status = status;
  ctx.set({ ...error.headers, 'Cache-Control': 'no-store', Pragma: 'no-cache' });
  ctx.body = { error: 'invalid_request', error_description: error.message };
}

function allowedMethods(router: Router<HttpState>, path: string): string[] {
  const methods = new Set<string>();
  // `.path` lists the layers matching the path under any method; middleware-only layers have no methods.
  for (const layer of router.match(path, 'GET').path) layer.methods.forEach((m) => methods.add(m));
  return [...methods];
}
