import { availableParallelism } from 'node:os';
import { ConfigError, loadConfig, MAX_DATABASE_QUERY_TIMEOUT_SECONDS } from '@config/env';
import { STALLED_SOCKET_TIMEOUT_MS } from '@config/http-server';
import { requestGraceMs } from '@config/application';
import { SHUTDOWN_LIMIT_MS } from '@config/cluster';

const SERVERS = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test', REDIS_URL: 'redis://127.0.0.1:6379' };

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('WORKERS and DATABASE_POOL_SIZE', () => {
  it('defaults to one process and a pool of 10', () => {
    expect(loadConfig({})).toMatchObject({ workers: 1, databasePoolSize: 10 });
  });

  it('takes a count, or auto for the available cores', () => {
    expect(loadConfig({ ...SERVERS, WORKERS: '4' }).workers).toBe(4);
    expect(loadConfig({ ...SERVERS, WORKERS: 'auto' }).workers).toBe(availableParallelism());
    expect(loadConfig({ DATABASE_POOL_SIZE: '3' }).databasePoolSize).toBe(3);
  });

  it('refuses a bad value with a message naming the variable', () => {
    expect(problems({ ...SERVERS, WORKERS: '0' })).toEqual(['WORKERS must be "auto" or an integer from 1 to 256 (got "0")']);
    expect(problems({ ...SERVERS, WORKERS: 'many' })[0]).toMatch(/^WORKERS must be/);
    expect(problems({ DATABASE_POOL_SIZE: '0' })[0]).toMatch(/^DATABASE_POOL_SIZE must be an integer from 1/);
  });

  it('sends the hot statements as named prepared statements unless DATABASE_PREPARED_STATEMENTS=false (PgBouncer < 1.21)', () => {
    expect(loadConfig({}).databasePreparedStatements).toBe(true);
    expect(loadConfig({ DATABASE_PREPARED_STATEMENTS: 'false' }).databasePreparedStatements).toBe(false);
    expect(loadConfig({ DATABASE_PREPARED_STATEMENTS: 'true' }).databasePreparedStatements).toBe(true);
    expect(problems({ DATABASE_PREPARED_STATEMENTS: 'sometimes' })[0]).toMatch(/^DATABASE_PREPARED_STATEMENTS/);
  });

  it('DATABASE_QUERY_TIMEOUT: 10 s by default, 1-10 s, refused otherwise with a message naming it', () => {
    expect(loadConfig({}).databaseQueryTimeoutMs).toBe(10_000);
    expect(loadConfig({ DATABASE_QUERY_TIMEOUT: '1s' }).databaseQueryTimeoutMs).toBe(1000);
    expect(loadConfig({ DATABASE_QUERY_TIMEOUT: '10s' }).databaseQueryTimeoutMs).toBe(10_000);
    // 16-20 s were accepted: past the HTTP server's 15-s stall limit, the client got an empty reply, not the 503.
    for (const bad of ['0', '11s', '16s', '20', '21s', '1m', 'soon']) expect(problems({ DATABASE_QUERY_TIMEOUT: bad })[0]).toMatch(/^DATABASE_QUERY_TIMEOUT must be a duration/);
  });

  it('DATABASE_QUERY_TIMEOUT at its longest, plus about 2 s to cancel the query, ends well inside the stall limit', () => {
    expect(MAX_DATABASE_QUERY_TIMEOUT_SECONDS * 1000 + 2_000).toBeLessThanOrEqual(STALLED_SOCKET_TIMEOUT_MS - 3_000);
  });

  it('refuses several workers in embedded mode: PGlite is one process', () => {
    const found = problems({ WORKERS: '2', REDIS_URL: SERVERS.REDIS_URL });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^WORKERS=2 needs DATABASE_URL: the embedded PostgreSQL \(PGlite\) runs in one process only/);
    expect(problems({ WORKERS: '1' })).toEqual([]);
  });

  it('refuses several workers without Redis: limits and the session cache must be shared', () => {
    expect(problems({ WORKERS: '3', DATABASE_URL: SERVERS.DATABASE_URL })).toEqual([
      'WORKERS=3 needs REDIS_URL: rate limits, lockout counters and the session cache must be shared by the workers',
    ]);
  });
});

/**
 * Outside review, 2026-12-03: with the database stalled, a login in flight at SIGTERM got no answer at all: the
 * shutdown closed its connection at 10 s, before its query's deadline (10 s) and cancel (1 s) gave it a 503.
 */
describe('the shutdown grace for requests', () => {
  it("outlasts a query's deadline and its cancel, and leaves the pools most of the shutdown bound", () => {
    for (const timeout of ['1s', '5s', '10s']) {
      const config = loadConfig({ DATABASE_QUERY_TIMEOUT: timeout });
      const grace = requestGraceMs(config);
      expect([timeout, grace > config.databaseQueryTimeoutMs + 1_000]).toEqual([timeout, true]);
      expect([timeout, grace >= 10_000, SHUTDOWN_LIMIT_MS - grace >= 15_000]).toEqual([timeout, true, true]);
    }
  });
});
