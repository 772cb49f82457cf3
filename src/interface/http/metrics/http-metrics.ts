import type { Middleware } from 'koa';
import { Histogram, type Registry } from 'prom-client';
import type { SecurityMetrics } from '@application/ports/security-metrics';
import type { RouteRateLimits } from '../middleware/rate-limit';
import type { HttpState } from '../http-state';
import type { MetricsEndpoint } from './metrics-endpoint';

export type DurationLabels = 'method' | 'route' | 'status';

/** What the HTTP adapter needs from the metrics (built in the composition root, one set per application). */
export interface HttpMetrics {
  requestDurations: Histogram<DurationLabels>;
  security: SecurityMetrics;
  endpoint: MetricsEndpoint;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export function createRequestDurations(registry: Registry): Histogram<DurationLabels> {
  return new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to handle an HTTP request, by method, route pattern (unmatched: no route) and final status.',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
}

/**
 * Outside the error handler, so it sees the final status of every request, errors included. The route label
 * is the pattern the mount matched (ctx.state.route), never the raw path: ids and tokens in paths would make
 * one series per user. A request the rate limits refused is counted from the quota that refused it
 * (ctx.state.rateLimits, recorded before RATE_LIMITED is thrown), so no route needs wiring for it.
 */
export function httpMetrics(metrics: HttpMetrics, rateLimits: Record<string, RouteRateLimits>): Middleware<HttpState> {
  const groupOf = policyGroups(rateLimits);
  return async (ctx, next) => {
    const end = metrics.requestDurations.startTimer();
    let status: number | null = null;
    try {
      await next();
    } catch (error) {
      status = 500;
      throw error;
    } finally {
      const method = METHODS.has(ctx.method) ? ctx.method : 'OTHER';
      end({ method, route: ctx.state.route?.path ?? 'unmatched', status: String(status ?? ctx.status) });
      const refused = ctx.state.rateLimits?.find(({ result }) => !result.allowed);
      if (refused) {
        const group = groupOf.get(refused.policy.name) ?? 'other';
        metrics.security.rateLimitRefusal(group);
        if (group === 'login') metrics.security.login('rate_limited');
      }
    }
  };
}

/** Policy name (`login-ip`, `password-reset-id` ...) -> its group (`login`, `password_reset`). */
function policyGroups(rateLimits: Record<string, RouteRateLimits>): Map<string, string> {
  const groups = new Map<string, string>();
  for (const [group, { ip, identifier }] of Object.entries(rateLimits)) {
    if (ip) groups.set(ip.name, group);
    if (identifier) groups.set(identifier.name, group);
  }
  return groups;
}
