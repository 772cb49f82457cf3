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
    if (allowed.length === 0) throw new HttpError('ROUTE_NOT_FOUND', 'No route matches this path.');
    const allow = [...allowed, 'OPTIONS'].join(', ');
    if (ctx.method === 'OPTIONS') {
      ctx.status = 204;
      ctx.set('Allow', allow);
      return;
    }
    throw new HttpError('METHOD_NOT_ALLOWED', 'This method is not allowed on this route.', { Allow: allow });
  };
}

function allowedMethods(router: Router<HttpState>, path: string): string[] {
  const methods = new Set<string>();
  // `.path` lists the layers matching the path under any method; middleware-only layers have no methods.
  for (const layer of router.match(path, 'GET').path) layer.methods.forEach((m) => methods.add(m));
  return [...methods];
}
