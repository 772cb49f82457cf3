import { loadConfig } from '@config/env';

describe('scale-out settings', () => {
  it('AMQP_QUEUE_TYPE: classic by default (what earlier versions declared), quorum on request, nothing else', () => {
    expect(loadConfig({}).events.queueType).toBe('classic');
    expect(loadConfig({ AMQP_QUEUE_TYPE: 'quorum' }).events.queueType).toBe('quorum');
    expect(() => loadConfig({ AMQP_QUEUE_TYPE: 'stream' })).toThrow(expect.objectContaining({ problems: [expect.stringContaining('AMQP_QUEUE_TYPE')] }));
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

describe('TRUSTED_PROXIES', () => {
  it('takes IP addresses and CIDR ranges of either family', () => {
    expect(loadConfig({ TRUSTED_PROXIES: '10.0.0.1, 10.0.0.0/8,fd00::/8, ::1, 0.0.0.0/0' }).trustedProxies).toEqual(['10.0.0.1', '10.0.0.0/8', 'fd00::/8', '::1', '0.0.0.0/0']);
  });

  it.each(['localhost', 'proxy.internal', '127.0.0.1/40', '127.0.0.1/x', '::1/129', '10.0.0.0/8/1', '10.0.0.0/'])(
    'refuses to start on %s, naming the variable (a host name was silently ignored, a bad prefix crashed at start)',
    (entry) => {
      expect(() => loadConfig({ TRUSTED_PROXIES: `10.0.0.1,${entry}` })).toThrow(
        expect.objectContaining({ problems: [expect.stringMatching(/^TRUSTED_PROXIES must list IP addresses.*got "/)] }),
      );
    },
  );
});
