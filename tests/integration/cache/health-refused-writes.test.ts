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
import { startTestApp, type TestApp } from '../../support/app';

const silent = pino({ level: 'silent' });
const PREFIX = 'healthoom:';
const USER = 'auth-service';
const SECRET = 'health-refused-writes';
type AdminClient = ReturnType<typeof createClient>;

/** A throw-away redis-server (no persistence) on a port of this worker's range (freePort): its memory limit and ACL are the test's to change, never the shared one's. */
class ScratchRedis {
  private child: ChildProcess | null = null;
  private readonly dir = mkdtempSync(join(tmpdir(), 'auth-healthoom-'));
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

  async close(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child && child.exitCode === null) {
      await new Promise<void>((done) => {
        child.once('exit', () => done());
        child.kill('SIGTERM');
      });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function eventually(condition: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Stop 52 (a review): readiness checked Redis with PING only, and a Redis that refuses every write and keeps the
 * connection (at `maxmemory` with `noeviction`, a READONLY replica) still answers PONG: the instance said `cache: up`
 * while its revocations failed (a logout answered 503, the revocation owed) and its limits counted per instance, though
 * the README promises `cache: down` (200 degraded) then. Readiness now asks for a short-lived write and for no
 * revocation owed, and says `up` again once Redis takes writes (the owed revocation written).
 */
describe('/health/ready\'s cache check while Redis refuses writes but answers PING', () => {
  let redis: ScratchRedis;
  let admin: AdminClient;
  let cache: Cache | undefined;

  beforeEach(async () => {
    redis = new ScratchRedis(await freePort());
    await redis.start();
    admin = createClient({ url: redis.url });
    admin.on('error', () => undefined);
    await admin.connect();
    await admin.sendCommand(['ACL', 'SETUSER', USER, 'on', `>${SECRET}`, '~*', '&*', '+@all']);
    const url = new URL(redis.url);
    url.username = USER;
    url.password = SECRET;
    const config = loadConfig({ REDIS_URL: url.toString(), REDIS_KEY_PREFIX: PREFIX });
    cache = await startCache(config, new ManualClock(new Date('2026-12-06T00:00:00Z')), silent, TEST_ENCRYPTION_KEY, 'require');
  }, 30_000);
  afterEach(async () => {
    if (cache) await Promise.race([cache.close().catch(() => undefined), new Promise((r) => setTimeout(r, 10_000).unref())]);
    cache = undefined;
    if (admin.isOpen) await admin.close();
    await redis.close();
  }, 30_000);

  it('Redis out of memory (noeviction): cache down while writes are refused, up once they are taken, the owed revocation written', async () => {
    const c = cache!;
    await c.sessions.remember('s1', { userId: 'u1', expiresAt: new Date(Date.now() + 3_600_000), revoked: false });
    expect(await c.status()).toBe('up');
    await admin.configSet({ 'maxmemory-policy': 'noeviction', maxmemory: '1' });
    // What the review's probe saw: PING still answers, and a write is refused.
    expect(await admin.ping()).toBe('PONG');
    await expect(admin.set('probe', 'x')).rejects.toThrow(/OOM/);
    expect(await c.status()).toBe('down');
    await expect(c.sessions.invalidate({ revoked: ['s1'], changed: [] })).rejects.toThrow(/OOM/);
    expect(await c.status()).toBe('down');
    await admin.configSet('maxmemory', '0');
    // Back: readiness writes the owed revocation (no validation needs to come by) and then says up.
    await eventually(async () => (await c.status()) === 'up', 5_000, 'cache: up once Redis takes writes');
    expect(await admin.get(`${PREFIX}session:s1`)).toBe('revoked');
  }, 20_000);

  it('a revocation still owed keeps the cache down though other writes are taken', async () => {
    const c = cache!;
    expect(await c.status()).toBe('up');
    // The session keys refuse writes (NOPERM), everything else takes them: only the owed revocation can say down.
    await admin.sendCommand(['ACL', 'SETUSER', USER, 'resetkeys', '%R~*', `%W~${PREFIX}health*`]);
    await expect(c.sessions.invalidate({ revoked: ['s2'], changed: [] })).rejects.toThrow(/NOPERM/);
    expect(await c.status()).toBe('down');
    await admin.sendCommand(['ACL', 'SETUSER', USER, '~*']);
    await eventually(async () => (await c.status()) === 'up', 5_000, 'cache: up once the owed revocation is written');
    expect(await admin.get(`${PREFIX}session:s2`)).toBe('revoked');
  }, 20_000);
});

/** The review's probe, through the whole service: an instance whose Redis is out of memory. */
describe('/health/ready of a service whose Redis is out of memory', () => {
  let redis: ScratchRedis | undefined;
  let admin: AdminClient | undefined;
  let t: TestApp | undefined;

  afterEach(async () => {
    await t?.stop();
    if (admin?.isOpen) await admin.close();
    await redis?.close();
  }, 30_000);

  it('is 200 degraded with cache: down while a logout answers 503, and ok again once Redis takes writes', async () => {
    redis = new ScratchRedis(await freePort());
    await redis.start();
    admin = createClient({ url: redis.url });
    admin.on('error', () => undefined);
    await admin.connect();
    t = await startTestApp({ env: { REDIS_URL: redis.url, REDIS_KEY_PREFIX: PREFIX, REQUIRE_EMAIL_VERIFICATION: 'false' } });
    const created = await t.http.post('/api/v1/auth/register').send({ email: 'alice@example.com', password: 'correct horse battery staple' }).expect(201);
    const token = created.body.data.tokens.access_token as string;
    const ready = async () => {
      const response = await t!.http.get('/health/ready');
      return [response.status, response.body.status, response.body.checks.cache];
    };
    expect(await ready()).toEqual([200, 'ok', 'up']);
    await admin.configSet({ 'maxmemory-policy': 'noeviction', maxmemory: '1' });
    expect(await ready()).toEqual([200, 'degraded', 'down']);
    await t.http.post('/api/v1/auth/logout').set('Authorization', `Bearer ${token}`).expect(503);
    expect(await ready()).toEqual([200, 'degraded', 'down']);
    await admin.configSet('maxmemory', '0');
    await eventually(async () => (await ready())[1] === 'ok', 5_000, 'status: ok once Redis takes writes');
    await t.http.get('/api/v1/auth/validate').set('Authorization', `Bearer ${token}`).expect(401);
  }, 60_000);
});
