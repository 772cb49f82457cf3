import { REAL_POSTGRES_SELECTED } from '../../support/postgres';
import { dropKeyPrefix, REAL_REDIS_SELECTED, REAL_REDIS_URL, uniqueKeyPrefix } from '../../support/redis';
import { startTestApp, type TestApp, type TestAppOptions } from '../../e2e/support/test-app';

/**
 * embedded: PGlite and the in-memory adapters (one process); servers: the real PostgreSQL and Redis (CI sets
 * their URLs; an unreachable one fails there, elsewhere it is left out with a warning).
 */
export type Mode = 'embedded' | 'servers';
export const MODES: Mode[] = REAL_POSTGRES_SELECTED && REAL_REDIS_SELECTED ? ['embedded', 'servers'] : ['embedded'];

/** No rate limit at all: for suites about something else that send many requests from one address. */
export const NO_RATE_LIMITS: Record<string, string> = Object.fromEntries(
  ['LOGIN', 'REGISTER', 'VERIFY', 'PASSWORD_RESET', 'REFRESH', 'CURRENT_PASSWORD'].flatMap((g) => [
    [`RATE_LIMIT_${g}_IP`, 'off'],
    [`RATE_LIMIT_${g}_ID`, 'off'],
  ]),
);

/** No rate limit and a lockout threshold no test reaches: for suites that send many failing logins on purpose. */
export const NO_LIMITS: Record<string, string> = { ...NO_RATE_LIMITS, LOCKOUT_THRESHOLD: '1000' };

/** The whole service through its composition root in `mode`, with its own Redis key prefix (removed at stop). */
export async function startSecureApp(mode: Mode, env: Record<string, string> = {}, options: Pick<TestAppOptions, 'logger'> = {}): Promise<TestApp> {
  const prefix = uniqueKeyPrefix();
  const servers = mode === 'servers';
  const t = await startTestApp({
    backend: servers ? 'postgres' : 'pglite',
    env: { ...(servers ? { REDIS_URL: REAL_REDIS_URL, REDIS_KEY_PREFIX: prefix } : {}), ...env },
    ...options,
  });
  return {
    ...t,
    async stop() {
      await t.stop();
      if (servers) await dropKeyPrefix(prefix);
    },
  };
}
