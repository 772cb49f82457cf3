import type { Logger } from '@application/ports/logger';
import type { DataSource } from 'typeorm';
import { schemaState } from '@infrastructure/persistence/typeorm/data-source';
import type { HealthChecks, HealthProbe } from '@interface/http/http-deps';
import { singleFlight } from './cluster-metrics';
import type { Infrastructure } from './infrastructure';

/** How often readiness re-reads the migrations table while this version's migrations are pending (ms). */
export const SCHEMA_RECHECK_MS = 5_000;

export interface HealthProbeOptions {
  /** The re-read interval of a schema found behind (default SCHEMA_RECHECK_MS); tests use a short one. */
  schemaRecheckMs?: number;
  /** Told when a schema found behind has been migrated (the instance becomes ready). */
  logger?: Logger;
}

/** /health/ready: each dependency answers within 2 s or counts as down. */
export async function healthChecks(infra: Infrastructure): Promise<HealthChecks> {
  const [database, cache] = await Promise.all([
    withTimeout(infra.dataSource.query('SELECT 1'), 2000).then(
      () => 'up' as const,
      () => 'down' as const,
    ),
    // Redis takes a write and is owed no revocation (REDIS_URL); in embedded mode the cache is in-process and up with it.
    withTimeout(infra.cache.status(), 2000).catch(() => 'down' as const),
  ]);
  return { database, cache, broker: infra.events.broker() };
}

/**
 * The readiness checks, remembering the latest result for /health/live; one check runs at once, at start, and
 * one read of the schema's state. One check at a time: probes arriving while one runs share its result
 * (singleFlight). /health/ready takes no credentials and no rate limit (the orchestrator's probes must always get
 * through), and each check takes a connection of the serving pool for its `SELECT 1` and writes to Redis: until a
 * review of stop 60 a flood of probes from anyone ran one of each per request, queueing real requests and the
 * orchestrator's own probe for the pool, which could then time out and take every flooded instance out of rotation.
 */
export function rememberingHealthProbe(infra: Infrastructure, options: HealthProbeOptions = {}): HealthProbe {
  let last: HealthChecks | null = null;
  let draining = false;
  const check = singleFlight(async (): Promise<HealthChecks> => {
    last = await healthChecks(infra);
    return last;
  });
  // healthChecks answers 'down' for a dependency that fails; nothing is expected to reject here.
  check().catch(() => undefined);
  const pendingMigrations = pendingMigrationsWatch(infra.dataSource, options.schemaRecheckMs ?? SCHEMA_RECHECK_MS, () =>
    options.logger?.info({}, 'the database schema is now up to date with this version: ready'),
  );
  pendingMigrations().catch(() => undefined);
  return {
    check,
    lastKnown: () => last,
    draining: () => draining,
    drain: () => {
      draining = true;
    },
    pendingMigrations,
  };
}

/**
 * For /health/ready: how many migrations this version needs that the database has not applied. An outside review
 * (2026-12-05) rolled new code out on a database one migration behind: it was ready, and every sign-up answered 500
 * (`column "failures" does not exist`); the start only logged a warning (it still does). Now such an instance stays
 * out of rotation until the migrations have run, by the Deployment's init container, `npm run migrate` or another
 * instance with MIGRATE_ON_START, and then becomes ready without a restart.
 *
 * Bounded cost: the migrations table is read at most once per `intervalMs` (probes in between, or at once, get the
 * cached answer), and never again once nothing is pending (this version's migrations do not come undone). A read
 * that fails or takes over 2 s keeps the last answer (none yet: not behind): the database's own check reports an
 * outage. Migrations the database has and this version does not know (a newer version ran them, as during a rolling
 * update) do not count: the older instances keep serving.
 */
export function pendingMigrationsWatch(dataSource: DataSource, intervalMs: number, onMigrated?: () => void): () => Promise<number> {
  let pending: number | null = null;
  let readAt = Number.NEGATIVE_INFINITY;
  let reading: Promise<number> | null = null;
  return () => {
    if (pending === 0) return Promise.resolve(0);
    if (reading) return reading;
    // A monotonic clock: with the wall clock, a step back of X kept a "behind" answer X longer (a review of clocks).
    if (pending !== null && performance.now() - readAt < intervalMs) return Promise.resolve(pending);
    reading = withTimeout(schemaState(dataSource), 2000)
      .then(
        (state) => {
          if (state.pending.length === 0 && pending !== null && pending > 0) onMigrated?.();
          pending = state.pending.length;
          return pending;
        },
        () => pending ?? 0,
      )
      .finally(() => {
        readAt = performance.now();
        reading = null;
      });
    return reading;
  };
}

/**
 * Unref'd: a deadline bounds the check, it does not hold the process. Every container starts a check at once, the
 * CLI's too. Until stop 55 a process that had finished its work while that check's query went unanswered stayed
 * alive up to 2 s longer: not the CLI binary, which exits explicitly, but an application run in process (the suites
 * that run the CLI so, whose jest workers were then ended by force).
 */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
