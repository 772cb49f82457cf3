import type { HealthChecks, HealthProbe } from '@interface/http/http-deps';
import type { Infrastructure } from './infrastructure';

/** /health/ready: each dependency answers within 2 s or counts as down. */
export async function healthChecks(infra: Infrastructure): Promise<HealthChecks> {
  const [database, cache] = await Promise.all([
    withTimeout(infra.dataSource.query('SELECT 1'), 2000).then(
      () => 'up' as const,
      () => 'down' as const,
    ),
    // Redis answers PING (REDIS_URL); in embedded mode the cache is in-process and up with the process.
    withTimeout(infra.cache.status(), 2000).catch(() => 'down' as const),
  ]);
  return { database, cache, broker: infra.events.broker() };
}

/** The readiness checks, remembering the latest result for /health/live; one check runs at once, at start. */
export function rememberingHealthProbe(infra: Infrastructure): HealthProbe {
  let last: HealthChecks | null = null;
  let draining = false;
  const check = async (): Promise<HealthChecks> => {
    last = await healthChecks(infra);
    return last;
  };
  // healthChecks answers 'down' for a dependency that fails; nothing is expected to reject here.
  check().catch(() => undefined);
  return {
    check,
    lastKnown: () => last,
    draining: () => draining,
    drain: () => {
      draining = true;
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
