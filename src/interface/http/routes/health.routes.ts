import type { Router } from '@koa/router';
import type { HealthChecks, HttpDeps } from '../http-deps';
import type { HttpState } from '../http-state';

const ALL_DOWN: HealthChecks = { database: 'down', cache: 'down', broker: 'down' };

/** Probe endpoints keep their plain shape (no envelope) and are never cached. */
export function registerHealthRoutes(router: Router<HttpState>, deps: HttpDeps): void {
  router.get('/health/live', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });

  router.get('/health/ready', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    let checks: HealthChecks;
    try {
      checks = await deps.health();
    } catch (error) {
      // A failing probe means "not ready", not a 500 that an orchestrator could read as a crash.
      ctx.state.log.error({ err: error }, 'health check failed');
      checks = ALL_DOWN;
    }
    // The broker is reported but does not make the instance unready: the outbox keeps events while it is away
    // and the relay publishes them when it is back (docs/events.md), so logins need not stop meanwhile.
    const down = checks.database === 'down' || checks.cache === 'down';
    ctx.status = down ? 503 : 200;
    ctx.body = { status: down ? 'unavailable' : 'ok', checks };
  });
}
