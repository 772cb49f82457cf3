import pino from 'pino';
import { parseRateLimit, rateLimitPolicies } from '@config/abuse-config';
import { startCache } from '@config/cache';
import { ConfigError, loadConfig } from '@config/env';
import { InMemorySessionStateCache } from '@infrastructure/cache/memory/in-memory-session-state-cache';
import { PassThroughSessionStateCache } from '@infrastructure/cache/memory/pass-through-session-state-cache';
import { ManualClock } from '@infrastructure/time/system-clock';

const KEY = Buffer.alloc(32, 1);

describe('abuse-resistance settings', () => {
  it('have the documented defaults', () => {
    const { abuse } = loadConfig({});
    expect(abuse.lockout).toEqual({ threshold: 5, baseSeconds: 900, maxSeconds: 86400 });
    expect(abuse.sessionCacheTtlSeconds).toBe(30);
    expect(abuse.redisKeyPrefix).toBe('auth:');
    expect([abuse.localCacheTtlSeconds, abuse.localCacheMaxEntries, abuse.tokenCacheMaxEntries]).toEqual([10, 10_000, 10_000]);
    expect(rateLimitPolicies(abuse.rateLimits).login).toEqual({
      ip: { name: 'login-ip', limit: 100, windowSeconds: 300 },
      identifier: { name: 'login-id', limit: 20, windowSeconds: 300 },
    });
    expect(rateLimitPolicies(abuse.rateLimits).password_reset.identifier).toEqual({ name: 'password-reset-id', limit: 5, windowSeconds: 900 });
  });

  it('count IPv6 clients by a /64 unless RATE_LIMIT_IPV6_PREFIX (32-128) says otherwise', () => {
    expect(loadConfig({}).abuse.ipv6Prefix).toBe(64);
    expect(loadConfig({ RATE_LIMIT_IPV6_PREFIX: '48' }).abuse.ipv6Prefix).toBe(48);
    expect(loadConfig({ RATE_LIMIT_IPV6_PREFIX: '128' }).abuse.ipv6Prefix).toBe(128);
    for (const bad of ['31', '129', '64.5', 'wide']) {
      expect(() => loadConfig({ RATE_LIMIT_IPV6_PREFIX: bad })).toThrow(`RATE_LIMIT_IPV6_PREFIX must be an integer from 32 to 128 (got "${bad}")`);
    }
  });

  it('read <count>/<window> or off', () => {
    expect(parseRateLimit('10/1m')).toEqual({ limit: 10, windowSeconds: 60 });
    expect(parseRateLimit('3 / 24h')).toEqual({ limit: 3, windowSeconds: 86400 });
    expect(parseRateLimit('OFF')).toBeNull();
    for (const bad of ['0/1m', '10', '10/0s', '10/2d', 'ten/1m', '100001/1s']) expect(parseRateLimit(bad)).toBeUndefined();
    const { abuse } = loadConfig({ RATE_LIMIT_REFRESH_IP: 'off', RATE_LIMIT_LOGIN_ID: '7/30s' });
    expect(abuse.rateLimits.refresh.ip).toBeNull();
    expect(abuse.rateLimits.login.identifier).toEqual({ limit: 7, windowSeconds: 30 });
  });

  it('refuse a duration without its unit (read as seconds, LOCKOUT_DURATION=15 was a 15-second lock; outside review, 2026-12-02); 0 needs none', () => {
    for (const [name, value] of [['LOCKOUT_DURATION', '15'], ['LOCKOUT_MAX_DURATION', '24'], ['SESSION_MAX_LIFETIME', '90'], ['ACCESS_TOKEN_TTL', '900'], ['OUTBOX_RETENTION', '7']] as const) {
      expect(() => loadConfig({ [name]: value })).toThrow(`${name} must be a duration with its unit`);
    }
    expect(() => loadConfig({ RATE_LIMIT_LOGIN_ID: '20/5' })).toThrow('RATE_LIMIT_LOGIN_ID must be <count>/<window>');
    expect(parseRateLimit('20/5')).toBeUndefined();
    expect(loadConfig({ LOCKOUT_DURATION: '15m', LOCKOUT_MAX_DURATION: '24h' }).abuse).toMatchObject({ lockout: { baseSeconds: 900, maxSeconds: 86400 } });
    expect(loadConfig({ LOCAL_CACHE_TTL: '0' }).abuse.localCacheTtlSeconds).toBe(0);
    expect(loadConfig({ ACCESS_TOKEN_TTL: '900s' }).jwt.accessTokenTtlSeconds).toBe(900);
  });

  it('HTTP_KEEP_ALIVE_TIMEOUT: 5 s by default (Node\'s), a duration from 1 s to 300 s', () => {
    expect(loadConfig({}).keepAliveTimeoutSeconds).toBe(5);
    expect(loadConfig({ HTTP_KEEP_ALIVE_TIMEOUT: '65s' }).keepAliveTimeoutSeconds).toBe(65);
    expect(() => loadConfig({ HTTP_KEEP_ALIVE_TIMEOUT: '10m' })).toThrow('HTTP_KEEP_ALIVE_TIMEOUT must be a duration');
  });

  it('PURGE_INTERVAL: 24 h by default, 0 turns the service\'s own purge off, at most 7 days', () => {
    expect(loadConfig({}).purgeIntervalSeconds).toBe(86400);
    expect(loadConfig({ PURGE_INTERVAL: '0' }).purgeIntervalSeconds).toBe(0);
    expect(loadConfig({ PURGE_INTERVAL: '6h' }).purgeIntervalSeconds).toBe(6 * 3600);
    expect(() => loadConfig({ PURGE_INTERVAL: '8d' })).toThrow('PURGE_INTERVAL must be a duration with its unit');
    expect(() => loadConfig({ PURGE_INTERVAL: '10m' })).toThrow('PURGE_INTERVAL must be 0 (off) or at least 1h');
    expect(loadConfig({ PURGE_INTERVAL: '10m', NODE_ENV: 'test' }).purgeIntervalSeconds).toBe(600);
  });

  it('AUDIT_RETENTION: 0 by default (the trail is kept for ever), a duration of at least a day otherwise', () => {
    expect(loadConfig({}).auditRetentionSeconds).toBe(0);
    expect(loadConfig({ AUDIT_RETENTION: '400d' }).auditRetentionSeconds).toBe(400 * 86400);
    expect(() => loadConfig({ AUDIT_RETENTION: '1h' })).toThrow('AUDIT_RETENTION must be 0 (keep for ever) or at least 1d');
    expect(() => loadConfig({ AUDIT_RETENTION: '365' })).toThrow('AUDIT_RETENTION must be a duration with its unit');
  });

  it('name every bad variable in one error', () => {
    expect(() => loadConfig({ RATE_LIMIT_LOGIN_IP: 'lots', LOCKOUT_THRESHOLD: '0', LOCKOUT_DURATION: '2h', LOCKOUT_MAX_DURATION: '1h', SESSION_CACHE_TTL: '1h' })).toThrow(
      expect.objectContaining({
        problems: [
          expect.stringContaining('RATE_LIMIT_LOGIN_IP'),
          expect.stringContaining('LOCKOUT_THRESHOLD'),
          expect.stringContaining('LOCKOUT_MAX_DURATION must not be shorter'),
          expect.stringContaining('SESSION_CACHE_TTL'),
        ],
      }),
    );
    expect(() => loadConfig({ LOCKOUT_THRESHOLD: 'x' })).toThrow(ConfigError);
  });

  /** An outside review (stop 49): Number() read hex, exponents and decimals, as it did for PORT before stop 46. */
  it('read whole numbers as digits only: hex, exponents, decimals and signs are refused, each variable named', () => {
    const cases: [string, string][] = [
      ['LOCKOUT_THRESHOLD', '0x5'],
      ['LOCKOUT_THRESHOLD', '5.0'],
      ['LOCAL_CACHE_MAX_ENTRIES', '0x10'],
      ['TOKEN_CACHE_MAX_ENTRIES', '1e3'],
      ['CURRENT_PASSWORD_MAX_FAILURES', '1e1'],
      ['RATE_LIMIT_IPV6_PREFIX', '+64'],
    ];
    for (const [name, value] of cases) {
      expect(() => loadConfig({ [name]: value })).toThrow(expect.objectContaining({ message: expect.stringContaining(`${name} must be an integer`) }));
    }
    const { abuse } = loadConfig({ LOCKOUT_THRESHOLD: '7', LOCAL_CACHE_MAX_ENTRIES: '16', TOKEN_CACHE_MAX_ENTRIES: '1000', CURRENT_PASSWORD_MAX_FAILURES: '10', RATE_LIMIT_IPV6_PREFIX: '56' });
    expect([abuse.lockout.threshold, abuse.localCacheMaxEntries, abuse.tokenCacheMaxEntries, abuse.currentPasswordMaxFailures, abuse.ipv6Prefix]).toEqual([7, 16, 1000, 10, 56]);
  });

  it('refuse a SESSION_CACHE_TTL over 60 s: a live entry elsewhere is what a lost revocation write leaves trusted', () => {
    expect(loadConfig({ SESSION_CACHE_TTL: '60s' }).abuse.sessionCacheTtlSeconds).toBe(60);
    for (const ttl of ['61', '61s', '2m', '600']) {
      expect(() => loadConfig({ SESSION_CACHE_TTL: ttl })).toThrow(expect.objectContaining({ problems: [expect.stringContaining('SESSION_CACHE_TTL')] }));
    }
  });

  it('cache the session state in memory only in embedded mode (one process); with DATABASE_URL and no Redis, not at all', async () => {
    const logger = pino({ level: 'silent' });
    const embedded = await startCache(loadConfig({}), new ManualClock(), logger, KEY);
    const shared = await startCache(loadConfig({ DATABASE_URL: 'postgres://db.example.com/auth' }), new ManualClock(), logger, KEY);
    expect(embedded.sessions).toBeInstanceOf(InMemorySessionStateCache);
    expect(shared.sessions).toBeInstanceOf(PassThroughSessionStateCache);
    expect([embedded.shared, shared.shared]).toEqual([false, false]);
    // The local validate cache likewise: on in embedded mode, never trusted with a database others may change.
    expect([embedded.local.startRead() !== null, shared.local.startRead()]).toEqual([true, null]);
  });

  it('bound the local caches: LOCAL_CACHE_TTL 0-60 s (capped at SESSION_CACHE_TTL), entry counts 0-1000000', async () => {
    const config = loadConfig({ LOCAL_CACHE_TTL: '0', LOCAL_CACHE_MAX_ENTRIES: '0', TOKEN_CACHE_MAX_ENTRIES: '1000000' });
    expect([config.abuse.localCacheTtlSeconds, config.abuse.localCacheMaxEntries, config.abuse.tokenCacheMaxEntries]).toEqual([0, 0, 1_000_000]);
    for (const [name, value] of [['LOCAL_CACHE_TTL', '61s'], ['LOCAL_CACHE_MAX_ENTRIES', '-1'], ['TOKEN_CACHE_MAX_ENTRIES', '1.5'], ['TOKEN_CACHE_MAX_ENTRIES', '1000001']]) {
      expect(() => loadConfig({ [name!]: value! })).toThrow(expect.objectContaining({ problems: [expect.stringContaining(name!)] }));
    }
    const off = await startCache(loadConfig({ LOCAL_CACHE_TTL: '0' }), new ManualClock(), pino({ level: 'silent' }), KEY);
    expect(off.local.startRead()).toBeNull();
  });
});
