import { loadConfig } from '@config/env';

describe('scale-out settings', () => {
  it('AMQP_QUEUE_TYPE: classic by default (what earlier versions declared), quorum on request, nothing else', () => {
    expect(loadConfig({}).events.queueType).toBe('classic');
    expect(loadConfig({ AMQP_QUEUE_TYPE: 'quorum' }).events.queueType).toBe('quorum');
    expect(() => loadConfig({ AMQP_QUEUE_TYPE: 'stream' })).toThrow(expect.objectContaining({ problems: [expect.stringContaining('AMQP_QUEUE_TYPE')] }));
  });

  it('DB_POOL_SIZE: 10 by default, 1-200', () => {
    expect(loadConfig({}).databasePoolSize).toBe(10);
    expect(loadConfig({ DB_POOL_SIZE: '4' }).databasePoolSize).toBe(4);
    for (const value of ['0', '201', 'many', '2.5']) {
      expect(() => loadConfig({ DB_POOL_SIZE: value })).toThrow(expect.objectContaining({ problems: [expect.stringContaining('DB_POOL_SIZE')] }));
    }
  });
});

describe('REDIS_MODE', () => {
  it('standalone by default: REDIS_URL is one server, as before', () => {
    expect(loadConfig({ REDIS_URL: 'redis://cache:6379' })).toMatchObject({ redisUrl: 'redis://cache:6379', redisTopology: { mode: 'standalone' } });
    expect(() => loadConfig({ REDIS_URL: 'redis://a:6379,redis://b:6379' })).toThrow(/REDIS_URL/);
  });

  it('cluster: REDIS_URL lists seed nodes; sentinel: it lists Sentinels and REDIS_SENTINEL_MASTER is required', () => {
    expect(loadConfig({ REDIS_MODE: 'cluster', REDIS_URL: 'redis://:pw@a:6379, redis://:pw@b:6379' })).toMatchObject({
      redisUrl: 'redis://:pw@a:6379,redis://:pw@b:6379', redisTopology: { mode: 'cluster' },
    });
    expect(loadConfig({ REDIS_MODE: 'sentinel', REDIS_URL: 'redis://s1:26379,redis://s2:26379', REDIS_SENTINEL_MASTER: 'auth', REDIS_SENTINEL_PASSWORD: 'x' }).redisTopology)
      .toEqual({ mode: 'sentinel', sentinelMaster: 'auth', sentinelPassword: 'x' });
    const problems = (env: Record<string, string>): string[] => {
      try {
        loadConfig(env);
        return [];
      } catch (error) {
        return (error as { problems: string[] }).problems;
      }
    };
    expect(problems({ REDIS_MODE: 'sentinel', REDIS_URL: 'redis://s1:26379' })).toEqual([expect.stringContaining('REDIS_SENTINEL_MASTER')]);
    expect(problems({ REDIS_MODE: 'cluster' })).toEqual([expect.stringContaining('needs REDIS_URL')]);
    expect(problems({ REDIS_MODE: 'cluster', REDIS_URL: 'redis://:secret@a:6379,http://b' })).toEqual([expect.not.stringContaining('secret')]);
    expect(problems({ REDIS_MODE: 'replicated' })).toEqual([expect.stringContaining('REDIS_MODE')]);
  });
});

describe('WORKERS', () => {
  const servers = { DATABASE_URL: 'postgres://db/auth', REDIS_URL: 'redis://cache:6379' };
  it('1 by default; a number from 1 to 64, or auto (one per CPU)', () => {
    expect(loadConfig({}).workers).toBe(1);
    expect(loadConfig({ ...servers, WORKERS: '4' }).workers).toBe(4);
    expect(loadConfig({ ...servers, WORKERS: 'auto' }).workers).toBeGreaterThanOrEqual(1);
    for (const value of ['0', '65', 'many']) expect(() => loadConfig({ ...servers, WORKERS: value })).toThrow(/WORKERS/);
  });

  it('more than one needs DATABASE_URL and REDIS_URL: the embedded database and in-memory limits serve one process', () => {
    expect(() => loadConfig({ WORKERS: '2' })).toThrow(/WORKERS above 1 needs DATABASE_URL and REDIS_URL/);
    expect(() => loadConfig({ WORKERS: '2', DATABASE_URL: servers.DATABASE_URL })).toThrow(/WORKERS above 1/);
    expect(loadConfig({ WORKERS: '1' }).workers).toBe(1);
  });
});
