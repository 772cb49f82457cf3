import { HttpErrors } from '../errors/http-error';
import { MetricsEndpoint } from '../metrics/metrics-endpoint';
import type { RouteDef } from '../routing/route';

/**
 * Prometheus scrape endpoint (CONTRACT §3): plain text, no envelope. Public unless METRICS_TOKEN is set; either
 * way it belongs behind the firewall (it tells the world request rates and login failure counts).
 */
const scrape: RouteDef<object, MetricsEndpoint> = {
  method: 'GET',
  path: '/metrics',
  summary: 'Prometheus metrics of this instance',
  tags: ['operations'],
  auth: 'none',
  responses: {
    200: {
      description: 'Metrics in the Prometheus text exposition format 0.0.4',
      contentType: 'text/plain; version=0.0.4',
      envelope: false,
    },
  },
  errors: ['UNAUTHENTICATED'],
  uses: MetricsEndpoint,
  async handle(ctx, endpoint) {
    if (!endpoint.admits(ctx.get('Authorization'))) {
      throw HttpErrors.unauthenticated();
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.type = endpoint.contentType;
    ctx.body = await endpoint.scrape();
  },
};

export const METRICS_ROUTES: readonly RouteDef[] = [scrape];
