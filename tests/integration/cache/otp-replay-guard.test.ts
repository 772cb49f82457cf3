import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { OtpReplayGuard } from '@application/ports/otp-replay-guard';
import { InMemoryOtpReplayGuard } from '@infrastructure/cache/memory/in-memory-otp-replay-guard';
import { OTP_REPLAY_TTL_SECONDS } from '@infrastructure/cache/otp-replay-rules';
import { connectRedis, type RedisClient } from '@infrastructure/cache/redis/redis-connection';
import { RedisOtpReplayGuard } from '@infrastructure/cache/redis/redis-otp-replay-guard';
import { ManualClock } from '@infrastructure/time/system-clock';
import { dropKeyPrefix, REAL_REDIS_SELECTED, REAL_REDIS_URL, testKeys, uniqueKeyPrefix } from '../../support/servers';

const silent = pino({ level: 'silent' });
/** What the service passes as the secret: its sealed form (a stand-in here). */
const SECRET = 'v1.sealed-secret-of-one-set-up';

interface Backend {
  /** Two guards over one store: two instances of the service. */
  guards: [OtpReplayGuard, OtpReplayGuard];
  /** Lets the claim of (user, SECRET, step) reach its TTL (memory: the clock; Redis: a shortened expiry). */
  expire(userId: string, step: number): Promise<void>;
  /** The claim's remaining lifetime in ms, as the store holds it. */
  remainingMs(userId: string, step: number): Promise<number>;
  /** Every key the store holds for this run (Redis), or null (memory). */
  keys(): Promise<string[] | null>;
  close(): Promise<void>;
}

const memory = async (): Promise<Backend> => {
  const clock = new ManualClock(new Date('2026-05-01T00:00:00Z'));
  const guard = new InMemoryOtpReplayGuard(clock);
  const claimedAt = new Map<string, number>();
  const tracked: OtpReplayGuard = {
    async claim(userId, factor, step) {
      const ok = await guard.claim(userId, factor, step);
      if (ok) claimedAt.set(`${userId}:${factor}:${step}`, clock.now().getTime());
      return ok;
    },
    release: (userId, factor, step) => guard.release(userId, factor, step),
  };
  return {
    // One process: "two instances" share the one map, as embedded mode has one process.
    guards: [tracked, tracked],
    expire: async () => clock.advance(OTP_REPLAY_TTL_SECONDS),
    remainingMs: async (userId, step) => claimedAt.get(`${userId}:${SECRET}:${step}`)! + OTP_REPLAY_TTL_SECONDS * 1000 - clock.now().getTime(),
    keys: async () => null,
    close: async () => undefined,
  };
};

/** The real Redis under a key prefix of this run, removed afterwards. */
const redis = async (): Promise<Backend> => {
  const prefix = uniqueKeyPrefix();
  const clients: RedisClient[] = [await connectRedis(REAL_REDIS_URL, silent), await connectRedis(REAL_REDIS_URL, silent)];
  const clock = new ManualClock(new Date('2026-05-01T00:00:00Z'));
  const [a, b] = clients.map((client) => new RedisOtpReplayGuard(client, testKeys(prefix), new InMemoryOtpReplayGuard(clock), silent)) as [RedisOtpReplayGuard, RedisOtpReplayGuard];
  return {
    guards: [a, b],
    // Redis expires by its own clock; shortening the TTL is what the passing of time would do.
    expire: async (userId, step) => void (await clients[0]!.pExpire(a.key(userId, SECRET, step), 1), await new Promise((r) => setTimeout(r, 5))),
    remainingMs: async (userId, step) => clients[0]!.pTTL(a.key(userId, SECRET, step)),
    keys: async () => clients[0]!.keys(`${prefix}*`),
    async close() {
      for (const client of clients) await client.close();
      await dropKeyPrefix(prefix);
    },
  };
};

const backends: [string, () => Promise<Backend>][] = [['in-memory', memory]];
if (REAL_REDIS_SELECTED) backends.push(['Redis', redis]);

describe.each(backends)('OTP replay guard: %s', (_name, start) => {
  let b: Backend;
  beforeAll(async () => {
    b = await start();
  });
  afterAll(async () => b?.close());

  const user = () => randomUUID();
  const STEP = 59_333_333;

  it('claims a (user, step) once: the second claim, from either instance, is refused', async () => {
    const u = user();
    await expect(b.guards[0].claim(u, SECRET, STEP)).resolves.toBe(true);
    await expect(b.guards[0].claim(u, SECRET, STEP)).resolves.toBe(false);
    await expect(b.guards[1].claim(u, SECRET, STEP)).resolves.toBe(false);
  });

  it('of 20 concurrent claims of one (user, step) over two instances exactly one succeeds', async () => {
    const u = user();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => b.guards[i % 2]!.claim(u, SECRET, STEP)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('keeps steps and users apart', async () => {
    const [u, v] = [user(), user()];
    await expect(b.guards[0].claim(u, SECRET, STEP)).resolves.toBe(true);
    await expect(b.guards[0].claim(u, SECRET, STEP + 1)).resolves.toBe(true);
    await expect(b.guards[1].claim(u, SECRET, STEP - 1)).resolves.toBe(true);
    await expect(b.guards[1].claim(v, SECRET, STEP)).resolves.toBe(true);
    await expect(b.guards[0].claim(v, SECRET, STEP)).resolves.toBe(false);
    await expect(b.guards[0].claim(u, SECRET, STEP + 1)).resolves.toBe(false);
  });

  /**
   * A new set-up (disable, set up again) within one 30 s step: the new secret's step is fresh (found by an outside
   * review on 2026-11-30: the claim was per (user, step), and the new secret's first code was refused).
   */
  it('keeps secrets apart: a step used under one secret is fresh under another, once each', async () => {
    const u = user();
    const other = 'v1.sealed-secret-of-the-next-set-up';
    await expect(b.guards[0].claim(u, SECRET, STEP)).resolves.toBe(true);
    await expect(b.guards[1].claim(u, other, STEP)).resolves.toBe(true);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => b.guards[i % 2]!.claim(u, i % 3 === 0 ? SECRET : other, STEP)));
    expect(results.filter(Boolean)).toHaveLength(0);
    const third = 'v1.sealed-secret-of-a-third-set-up';
    const raced = await Promise.all(Array.from({ length: 10 }, (_, i) => b.guards[i % 2]!.claim(u, third, STEP)));
    expect(raced.filter(Boolean)).toHaveLength(1);
  });

  /** A claim whose transaction failed is given back by its holder (SecondFactor.spending): claimable once again. */
  it('a released claim can be claimed again, once, from either instance; other claims stay', async () => {
    const u = user();
    await expect(b.guards[0].claim(u, SECRET, STEP)).resolves.toBe(true);
    await expect(b.guards[0].claim(u, SECRET, STEP + 1)).resolves.toBe(true);
    await b.guards[0].release(u, SECRET, STEP);
    const raced = await Promise.all(Array.from({ length: 10 }, (_, i) => b.guards[i % 2]!.claim(u, SECRET, STEP)));
    expect(raced.filter(Boolean)).toHaveLength(1);
    await expect(b.guards[1].claim(u, SECRET, STEP + 1)).resolves.toBe(false);
    // Releasing what is not claimed is harmless.
    await b.guards[1].release(user(), SECRET, STEP);
  });

  it('stores neither the user id nor the secret in a key', async () => {
    const u = user();
    await b.guards[0].claim(u, SECRET, STEP);
    const keys = await b.keys();
    if (keys === null) return; // process memory: nothing for anyone else to read
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) for (const needle of [u, SECRET, 'sealed-secret']) expect(key).not.toContain(needle);
  });

  it('remembers a claim for the whole acceptance window (120 s), then forgets it', async () => {
    const u = user();
    await expect(b.guards[0].claim(u, SECRET, STEP)).resolves.toBe(true);
    const remaining = await b.remainingMs(u, STEP);
    expect(remaining).toBeGreaterThan(110_000); // at least 90 s (steps T-1..T+1) plus drift
    expect(remaining).toBeLessThanOrEqual(120_000);
    await b.expire(u, STEP);
    await expect(b.guards[1].claim(u, SECRET, STEP)).resolves.toBe(true);
    await expect(b.guards[0].claim(u, SECRET, STEP)).resolves.toBe(false);
  });
});

describe('OTP replay guard (in-memory): expiry by the clock', () => {
  it('refuses until the TTL has passed, one millisecond before included', async () => {
    const clock = new ManualClock(new Date('2026-05-01T00:00:00Z'));
    const guard = new InMemoryOtpReplayGuard(clock);
    await expect(guard.claim('u', SECRET, 1)).resolves.toBe(true);
    clock.advance(OTP_REPLAY_TTL_SECONDS - 0.001);
    await expect(guard.claim('u', SECRET, 1)).resolves.toBe(false);
    clock.advance(0.001);
    await expect(guard.claim('u', SECRET, 1)).resolves.toBe(true);
  });
});

// Only with a real Redis to stop talking to (as the Redis backend above).
if (REAL_REDIS_SELECTED) {
  describe('OTP replay guard (Redis): unreachable', () => {
    it('claims in this process instead, still once per (user, step)', async () => {
      const client = await connectRedis(REAL_REDIS_URL, silent);
      await client.close();
      const local = new InMemoryOtpReplayGuard(new ManualClock(new Date('2026-05-01T00:00:00Z')));
      const guard = new RedisOtpReplayGuard(client, testKeys(uniqueKeyPrefix()), local, silent);
      await expect(guard.claim('u', SECRET, 7)).resolves.toBe(true);
      await expect(guard.claim('u', SECRET, 7)).resolves.toBe(false);
      await expect(local.claim('u', SECRET, 7)).resolves.toBe(false);
    });
  });
}
