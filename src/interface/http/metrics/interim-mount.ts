import type { Router } from '@koa/router';
import type { HttpState } from '../http-state';
import { METRICS_ROUTES } from '../routes/metrics.routes';
import type { RouteContext } from '../routing/route';
import type { MetricsEndpoint } from './metrics-endpoint';

/**
 * Until the route table's mount serves METRICS_ROUTES: mounts them with what the mount would do for a GET with
 * `auth: 'none'` (set ctx.state.route, call the handler). Delete this file once METRICS_ROUTES is in the table.
 */
export function mountMetricsRoutes(router: Router<HttpState>, endpoint: MetricsEndpoint): void {
  for (const route of METRICS_ROUTES) {
    router.get(route.path, async (ctx) => {
      ctx.state.route = { method: route.method, path: route.path };
      await route.handle(ctx as unknown as RouteContext, endpoint);
    });
  }
}
