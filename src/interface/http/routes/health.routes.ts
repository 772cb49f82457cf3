import type { HealthChecks } from '../http-deps';
import { HTTP_TOKENS } from '../http-deps';
import { defineRoute } from '../routing/define-route';
import type { RouteDef } from '../routing/route';
import { HEALTH_SCHEMA } from '../openapi/schemas';

const ALL_DOWN: HealthChecks = { database: 'down', cache: 'down', broker: 'down' };

/** Probe endpoints keep their plain shape (no envelope) and are never cached. */
export const HEALTH_ROUTES: readonly RouteDef[] = [
  defineRoute({
    method: 'GET',
    path: '/health/live',
    summary: 'Liveness probe',
    tags: ['health'],
    auth: 'none',
    responses: { 200: { description: 'The process is up; checks: the latest readiness result', schema: HEALTH_SCHEMA, envelope: false } },
    errors: [],
    uses: HTTP_TOKENS.Health,
    async handle(ctx, probe) {
      ctx.set('Cache-Control', 'no-store');
      // Always 200 while the process answers: a dependency down is readiness's business (no restart for it).
      // The checks are the latest readiness result, read without I/O; only before the first is one run.
      const checks = probe.lastKnown() ?? (await probe.check().catch(() => ALL_DOWN));
      ctx.body = { status: 'ok', checks };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/health/ready',
    summary: 'Readiness probe (database and its migrations required; cache and broker reported)',
    tags: ['health'],
    auth: 'none',
    responses: {
      200: { description: 'Ready: ok, or degraded (the cache is down: limits and lockout per instance)', schema: HEALTH_SCHEMA, envelope: false },
      503: {
        description: 'The database is down, or its schema is behind this version (`schema: behind`, `pending_migrations`), or the process is shutting down (draining)',
        schema: HEALTH_SCHEMA,
        envelope: false,
      },
    },
    errors: [],
    uses: HTTP_TOKENS.Health,
    async handle(ctx, probe) {
      ctx.set('Cache-Control', 'no-store');
      let checks: HealthChecks;
      try {
        checks = await probe.check();
      } catch (error) {
        // A failing probe means "not ready", not a 500 that an orchestrator could read as a crash.
        ctx.state.log.error({ err: error }, 'health check failed');
        checks = ALL_DOWN;
      }
      // The broker is reported but does not make the instance unready: the outbox keeps events while it is away
      // and the relay publishes them when it is back (docs/events.md), so logins need not stop meanwhile.
      // Nor does the cache: without Redis the instance serves, degraded (limits and lockout counted per instance,
      // validation from the database, a revocation answered 503 until it reaches the others). Until 2026-12-03 a
      // Redis outage made every instance unready at once, and the load balancer (HAProxy, a Kubernetes Service)
      // then refused every request, JWKS included: an outage of the whole service for one of its caches (an
      // outside review).
      const down = checks.database === 'down';
      // Shutting down: a keep-alive connection opened before (a load balancer's) must not read "ok" while the
      // process drains (an outside review, 2026-12-03, read 200 for 2.8 s of a drain).
      const draining = probe.draining?.() === true;
      // New code on a database its migrations have not reached yet is not ready: the requests that need the missing
      // tables or columns would fail with 500 (an outside review, 2026-12-05). Re-read at most every few seconds, so
      // the instance becomes ready once the migrations have run; liveness never asks (no restart while it waits).
      const pending = down || draining || !probe.pendingMigrations ? 0 : await probe.pendingMigrations().catch(() => 0);
      ctx.status = down || draining || pending > 0 ? 503 : 200;
      // The dependency's failure is logged where it happens; this 503 is the probe's answer.
      ctx.state.statusIsTheAnswer = true;
      const status = draining ? 'draining' : down || pending > 0 ? 'unavailable' : checks.cache === 'down' ? 'degraded' : 'ok';
      ctx.body = pending > 0 ? { status, checks, schema: 'behind', pending_migrations: pending } : { status, checks };
    },
  }),
];
