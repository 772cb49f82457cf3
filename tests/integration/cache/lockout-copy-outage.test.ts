import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createClient } from 'redis';
import { startCache, type Cache } from '@config/cache';
import { loadConfig } from '@config/env';
import { ManualClock } from '@infrastructure/time/system-clock';
import { TEST_ENCRYPTION_KEY } from '../../support/servers';
import { freePort } from '../../support/ports';
import { elapseRedisClock } from '../../support/redis-elapse';

const silent = pino({ level: 'silent' });
/** The service's default lockout policy (CONTRACT §5): 5 failures lock 900 s, doubling, capped at a day. */
const BASE_SECONDS = 900;
const THRESHOLD = 5;
/** A throw-away redis-server (no persistence) on a port of this worker's range (freePort), stopped by its pid: stopping it is the outage, never the shared one. */
class ScratchRedis {
  private child: ChildProcess | null = null;
  private readonly dir = mkdtempSync(join(tmpdir(), 'auth-lockcopy-'));
  readonly url: string;

  constructor(private readonly port: number) {
    this.url = `redis://127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { cwd: this.dir, stdio: 'ignore' });
    child.on('error', () => undefined);
    this.child = child;
    const deadline = Date.now() + 15_000;
    for (;;) {
      const client = createClient({ url: this.url, socket: { reconnectStrategy: false } });
      client.on('error', () => undefined);
      const ok = await client.connect().then(() => client.ping().then((r) => r === 'PONG'), () => false);
      if (client.isOpen) await client.close();
      if (ok) return;
      if (Date.now() > deadline) throw new Error('redis-server did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  get running(): boolean {
    return this.child !== null;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((done) => {
      child.once('exit', () => done());
      child.kill('SIGTERM');
    });
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Closes a cache, without waiting on it for ever. */
async function closeSoon(cache: Cache | undefined): Promise<void> {
  if (!cache) return;
  await Promise.race([cache.close().catch(() => undefined), new Promise((r) => setTimeout(r, 10_000).unref())]);
}

/**
 * Stop 52 (outside review): a lock set in Redis before an outage was ignored during it. The identifier was treated
 * as unlocked the moment Redis became unreachable: the right password got in, a guesser had a full threshold more
 * on each instance, and the lock set then was the base one, not the escalated one. Both lockouts of the composition
 * root (password and second factor) now copy a lock Redis answered and keep refusing until it ends; a lift through
 * Redis drops the copy. Instance B sets the locks; instance A (the one under test) sees them, then Redis stops.
 */
describe.each([['password', 'lockout'], ['second-factor', 'mfaLockout']] as const)('the %s lockout through a Redis outage', (_name, which) => {
  let redis: ScratchRedis;
  let a: Cache | undefined;
  let b: Cache | undefined;
  let clock: ManualClock;

  beforeEach(async () => {
    redis = new ScratchRedis(await freePort());
    await redis.start();
    clock = new ManualClock(new Date('2026-12-06T00:00:00Z'));
    const config = loadConfig({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'lockcopy:' });
    a = await startCache(config, clock, silent, TEST_ENCRYPTION_KEY, 'require');
    b = await startCache(config, clock, silent, TEST_ENCRYPTION_KEY, 'require');
  }, 30_000);
  afterEach(async () => {
    // Back on its port, so that A's client (reconnecting meanwhile) can be closed.
    if (!redis.running) await redis.start();
    await closeSoon(b);
    await closeSoon(a);
    await redis.close();
  }, 30_000);

  /** The clock moved by `seconds`, and Redis's with it for the lockout keys (its scripts go by TIME, not by `clock`). */
  async function advance(seconds: number): Promise<void> {
    clock.advance(seconds);
    await elapseRedisClock(redis.url, seconds * 1000, { prefix: 'lockcopy:' });
  }

  /** THRESHOLD failures through B: locks the identifier in Redis. */
  async function lockThroughB(identifier: string): Promise<number> {
    let seconds = 0;
    for (let i = 0; i < THRESHOLD; i += 1) seconds = (await b![which].recordFailure(identifier, clock.now())).lockSeconds;
    return seconds;
  }

  it('an escalated lock Redis answered keeps refusing through the outage until it ends, and the next lock escalates', async () => {
    const lockout = a![which];
    expect(await lockThroughB('carol@example.com')).toBe(BASE_SECONDS);
    await advance(BASE_SECONDS + 1);
    expect(await lockThroughB('carol@example.com')).toBe(2 * BASE_SECONDS);
    // A sees the escalated lock through Redis ...
    expect(await lockout.reserve('carol@example.com', clock.now())).toEqual({ locked: true, retryAfterSeconds: 2 * BASE_SECONDS });
    await closeSoon(b);
    b = undefined;
    await redis.stop();
    clock.advance(60);
    // ... and Redis gone, still refuses, with the lock's own remainder: to a reserve, a state and a right password.
    expect(await lockout.reserve('carol@example.com', clock.now())).toEqual({ locked: true, retryAfterSeconds: 2 * BASE_SECONDS - 60 });
    expect(await lockout.state('carol@example.com', clock.now())).toEqual({ locked: true, retryAfterSeconds: 2 * BASE_SECONDS - 60 });
    expect(await lockout.succeed('carol@example.com', clock.now())).toMatchObject({ locked: true });
    // A failure meanwhile counts nothing (as in Redis): the lock's end is when the guessing may start again.
    expect(await lockout.recordFailure('carol@example.com', clock.now())).toEqual({ lockedNow: false, lockSeconds: 0 });
    clock.advance(2 * BASE_SECONDS - 60 - 1);
    expect((await lockout.reserve('carol@example.com', clock.now())).locked).toBe(true);
    clock.advance(1);
    // Once it has ended, a full threshold of guesses, and the lock they set is Redis's next one (doubled again).
    const outcomes = [];
    for (let i = 0; i < THRESHOLD; i += 1) {
      expect((await lockout.reserve('carol@example.com', clock.now())).locked).toBe(false);
      outcomes.push(await lockout.recordFailure('carol@example.com', clock.now()));
    }
    expect(outcomes.at(-1)).toEqual({ lockedNow: true, lockSeconds: 4 * BASE_SECONDS });
    expect(await lockout.reserve('carol@example.com', clock.now())).toEqual({ locked: true, retryAfterSeconds: 4 * BASE_SECONDS });
  }, 30_000);

  it('a lift through Redis drops the copy: an unlock there, or seen there, leaves the identifier unlocked in the outage', async () => {
    const lockout = a![which];
    // Unlocked through A (an admin unlock, a password reset) while Redis is up.
    await lockThroughB('dave@example.com');
    expect((await lockout.reserve('dave@example.com', clock.now())).locked).toBe(true);
    await lockout.clear('dave@example.com');
    // Unlocked elsewhere (B) while Redis is up, and A's next answer from Redis says so.
    await lockThroughB('erin@example.com');
    expect((await lockout.state('erin@example.com', clock.now())).locked).toBe(true);
    await b![which].clear('erin@example.com');
    expect(await lockout.state('erin@example.com', clock.now())).toEqual({ locked: false });
    // Ended, and a successful login cleared the repeat count in Redis: the copied count goes with it.
    await lockThroughB('frank@example.com');
    expect((await lockout.reserve('frank@example.com', clock.now())).locked).toBe(true);
    await advance(BASE_SECONDS);
    expect(await lockout.reserve('frank@example.com', clock.now())).toEqual({ locked: false });
    expect(await lockout.succeed('frank@example.com', clock.now())).toEqual({ locked: false });
    await closeSoon(b);
    b = undefined;
    await redis.stop();
    for (const identifier of ['dave@example.com', 'erin@example.com']) {
      expect((await lockout.reserve(identifier, clock.now())).locked).toBe(false);
      expect(await lockout.succeed(identifier, clock.now())).toEqual({ locked: false });
    }
    const outcomes = [];
    for (let i = 0; i < THRESHOLD; i += 1) {
      expect((await lockout.reserve('frank@example.com', clock.now())).locked).toBe(false);
      outcomes.push(await lockout.recordFailure('frank@example.com', clock.now()));
    }
    expect(outcomes.at(-1)).toEqual({ lockedNow: true, lockSeconds: BASE_SECONDS });
  }, 30_000);
});
