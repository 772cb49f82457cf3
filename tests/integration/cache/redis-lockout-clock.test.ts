import pino from 'pino';
import type { Clock } from '@application/ports/clock';
import { InMemoryLoginLockout } from '@infrastructure/cache/memory/in-memory-login-lockout';
import { InMemorySecretAttempts } from '@infrastructure/cache/memory/in-memory-secret-attempts';
import { FallbackLoginLockout } from '@infrastructure/cache/redis/fallback-login-lockout';
import { connectRedis, type RedisClient } from '@infrastructure/cache/redis/redis-connection';
import { lockoutKeys, RedisLoginLockout } from '@infrastructure/cache/redis/redis-login-lockout';
import { RedisSecretAttempts } from '@infrastructure/cache/redis/redis-secret-attempts';
import { describeWhen, dropKeyPrefix, REAL_REDIS_SELECTED, REAL_REDIS_URL, testKeys, uniqueKeyPrefix } from '../../support/servers';
import { TcpProxy } from '../../support/tcp-proxy';
import { within } from '../../support/within';

/**
 * A review of clocks: the lockout and current-password scripts judged the attempts in flight, the lock's end and the
 * owed-clear marker by each caller's clock (the `now` the app passed). With instance B's clock 31 s ahead of A's, B's
 * `ZREMRANGEBYSCORE -inf <B now>` deleted A's places (scored A-now + 30 s) and admitted a second threshold of guesses
 * at once; a lock set by A lasted 10 minutes less when read by an instance 10 minutes ahead; and a clear owed by an
 * instance running ahead wiped failures another instance recorded after it. The scripts now take Redis's TIME.
 */
const silent = pino({ level: 'silent' });
const POLICY = { threshold: 5, baseSeconds: 900, maxSeconds: 86400 };
const later = (ms: number) => new Date(Date.now() + ms);
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A process whose wall clock is off by `offsetMs` (it ticks in real time). */
const skewedClock = (offsetMs: number): Clock => ({ now: () => later(offsetMs) });

describeWhen(REAL_REDIS_SELECTED, 'Redis')('Redis lockout and secret attempts across instances whose clocks differ', () => {
  let client: RedisClient;
  let prefix: string;

  beforeAll(async () => {
    prefix = uniqueKeyPrefix();
    client = await connectRedis(REAL_REDIS_URL, silent);
  });
  afterAll(async () => {
    await client.close();
    await dropKeyPrefix(prefix);
  });

  it('places taken on one instance still count on an instance whose clock is 31 s ahead: never twice the threshold at once', async () => {
    const a = new RedisLoginLockout(client, testKeys(prefix), POLICY);
    const b = new RedisLoginLockout(client, testKeys(prefix), POLICY);
    for (let i = 0; i < POLICY.threshold; i += 1) expect(await a.reserve('skewed-burst', later(0))).toEqual({ locked: false });
    expect(await b.reserve('skewed-burst', later(31_000))).toEqual({ locked: true, retryAfterSeconds: 1, inFlight: true });
    // And the other way round: a place B took is not treated as long gone by A, nor as held for 31 s more.
    expect(await a.reserve('skewed-burst', later(0))).toMatchObject({ locked: true, inFlight: true });
  });

  it('current-password checks in flight on one instance still count on an instance 31 s ahead', async () => {
    const a = new RedisSecretAttempts(client, testKeys(prefix), new InMemorySecretAttempts(), silent);
    const b = new RedisSecretAttempts(client, testKeys(prefix), new InMemorySecretAttempts(), silent);
    for (let i = 0; i < 5; i += 1) expect((await a.begin('skewed-subject', 5, later(0))).admitted).toBe(true);
    expect(await b.begin('skewed-subject', 5, later(31_000))).toEqual({ admitted: false, failures: 0 });
  });

  it('a lock lasts its full length whatever the clock of the instance that reads it', async () => {
    const a = new RedisLoginLockout(client, testKeys(prefix), POLICY);
    const fast = new RedisLoginLockout(client, testKeys(prefix), POLICY);
    for (let i = 0; i < POLICY.threshold; i += 1) await a.recordFailure('skewed-lock', later(0));
    // Counted on Redis's clock, which goes on while the test runs: a second may pass on a loaded machine.
    const lock = { locked: true, retryAfterSeconds: within(POLICY.baseSeconds - 5, POLICY.baseSeconds) };
    expect(await fast.state('skewed-lock', later(600_000))).toEqual(lock);
    expect(await fast.reserve('skewed-lock', later(600_000))).toEqual(lock);
    expect(await fast.succeed('skewed-lock', later(600_000))).toEqual(lock);
    // Set by the fast instance, it is no longer for the others either.
    for (let i = 0; i < POLICY.threshold; i += 1) await fast.recordFailure('skewed-lock-2', later(600_000));
    expect(await a.state('skewed-lock-2', later(0))).toEqual(lock);
  });

  it('a clear owed by an instance running 30 s ahead does not wipe failures recorded after it by another instance', async () => {
    const target = new URL(REAL_REDIS_URL);
    const proxy = new TcpProxy(target.hostname, Number(target.port || 6379));
    await proxy.start();
    const own = await connectRedis(proxy.through(REAL_REDIS_URL), silent);
    const clock = skewedClock(30_000);
    const fast = new FallbackLoginLockout(new RedisLoginLockout(own, testKeys(prefix), POLICY), new InMemoryLoginLockout(POLICY), silent, clock);
    const b = new RedisLoginLockout(client, testKeys(prefix), POLICY);
    try {
      for (const id of ['skewed-owed-paid', 'skewed-owed-kept']) for (let i = 0; i < 3; i += 1) await b.recordFailure(id, later(0));
      await wait(50);
      proxy.cut();
      for (const id of ['skewed-owed-paid', 'skewed-owed-kept']) expect(await fast.succeed(id, clock.now())).toEqual({ locked: false });
      expect(fast.owedClears).toBe(2);
      // Wide: the clear is placed on Redis's clock by its age when paid; a stall between reading this clock and the
      // script must stay well under the gap.
      await wait(2000);
      proxy.restore();
      // B locks 'skewed-owed-kept' (two more failures make five), after the clear was owed, before the fast one calls again.
      for (let i = 0; i < 2; i += 1) await b.recordFailure('skewed-owed-kept', later(0));
      const deadline = Date.now() + 15_000;
      while (fast.owedClears > 0) {
        if (Date.now() > deadline) throw new Error('the owed clears were not paid after the outage');
        await fast.state('someone-else', clock.now());
        await wait(20);
      }
      expect(await b.state('skewed-owed-kept', later(0))).toEqual({ locked: true, retryAfterSeconds: within(POLICY.baseSeconds - 10, POLICY.baseSeconds) });
      expect(await client.exists(lockoutKeys(testKeys(prefix), 'skewed-owed-paid')[0])).toBe(0);
    } finally {
      own.destroy();
      await proxy.close();
    }
  });
});
