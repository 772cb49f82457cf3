import pino from 'pino';
import { createClient } from 'redis';
import { startCache, type Cache } from '@config/cache';
import { loadConfig } from '@config/env';
import { ManualClock } from '@infrastructure/time/system-clock';
import { dropKeyPrefix, REAL_REDIS_SELECTED, REAL_REDIS_URL, TEST_ENCRYPTION_KEY, uniqueKeyPrefix } from '../../support/servers';

const silent = pino({ level: 'silent' });

/**
 * Stop 52 (a review): a revocation entered the owed set before its write was sent, and readiness (owesWrites) read
 * every logout in flight as owed: beside 30 parallel logouts on a healthy Redis, 8 of 120 probes said `cache: down`
 * (200 degraded). Owed now means the write failed (tests/integration/cache/health-refused-writes.test.ts); a write
 * under way still keeps this instance's own reads off Redis.
 */
// Left out (with the warning of tests/support/servers.ts) only when Redis is unreachable outside CI.
if (REAL_REDIS_SELECTED) describe('readiness while revocations are being written to a healthy Redis', () => {
  let prefix: string;
  let cache: Cache;

  beforeEach(async () => {
    prefix = uniqueKeyPrefix();
    const config = loadConfig({ REDIS_URL: REAL_REDIS_URL, REDIS_KEY_PREFIX: prefix });
    cache = await startCache(config, new ManualClock(new Date('2026-12-06T00:00:00Z')), silent, TEST_ENCRYPTION_KEY, 'require');
  }, 30_000);
  afterEach(async () => {
    await cache.close();
    await dropKeyPrefix(prefix);
  });

  it('a revocation whose write is under way is not owed: cache up, and the revocation lands', async () => {
    const writing = cache.sessions.invalidate({ revoked: ['s1'], changed: [] });
    const during = await cache.status();
    await writing;
    expect(during).toBe('up');
    expect(await cache.status()).toBe('up');
    const admin = createClient({ url: REAL_REDIS_URL });
    admin.on('error', () => undefined);
    await admin.connect();
    try {
      expect(await admin.get(`${prefix}session:s1`)).toBe('revoked');
    } finally {
      await admin.close();
    }
  });

  it('30 parallel logouts beside 30 probes: every probe says up', async () => {
    const logouts = Array.from({ length: 30 }, (_, i) => cache.sessions.invalidate({ revoked: [`p${i}`], changed: [] }));
    const probes = await Promise.all(Array.from({ length: 30 }, () => cache.status()));
    await Promise.all(logouts);
    expect(probes.filter((s) => s !== 'up')).toEqual([]);
  });

  it('this instance still reads past Redis for a session whose revocation is being written', async () => {
    await cache.sessions.remember('s2', { userId: 'u2', expiresAt: new Date(Date.now() + 3_600_000), revoked: false });
    expect(await cache.sessions.get('s2')).toMatchObject({ userId: 'u2', revoked: false });
    const writing = cache.sessions.invalidate({ revoked: ['s2'], changed: [] });
    // The live entry is still in Redis until the write lands: the cache must not serve it meanwhile.
    const during = await cache.sessions.get('s2');
    await writing;
    expect(during).toBeNull();
    expect(await cache.sessions.get('s2')).toMatchObject({ revoked: true });
  });
});
