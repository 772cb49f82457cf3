import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createClient } from 'redis';
import { connectRedis } from '@infrastructure/cache/redis/redis-connection';
import { RedisInvalidationLink } from '@infrastructure/cache/redis/redis-invalidation-link';
import { RedisSessionStateCache } from '@infrastructure/cache/redis/redis-session-state-cache';
import { PASSWORD, call, startServiceProcess, startTestApp, type ServiceProcess, type TestApp } from '../support/app';
import { eventually } from '../support/events';
import { freePort } from '../support/ports';
import { createScratchDatabase, describeWhen, dropKeyPrefix, REAL_POSTGRES_SELECTED, REAL_REDIS_SELECTED, REAL_REDIS_URL, uniqueKeyPrefix } from '../support/servers';
import { TcpProxy } from '../support/tcp-proxy';

/**
 * Redis away when an instance starts (stop 51): until then the start waited 10 s for it and exited 1, so during an
 * outage no new instance could start (a rolling update, a scale-up, a crashed pod: CrashLoopBackOff), while the
 * running ones served degraded. Now it starts degraded, as a running instance serves through an outage, and
 * connects in the background: fully `ok` once Redis answers, without a restart.
 */
describeWhen(REAL_POSTGRES_SELECTED && REAL_REDIS_SELECTED, 'PostgreSQL and Redis')('an instance started while Redis is unreachable', () => {
  const prefix = uniqueKeyPrefix();
  const key = randomBytes(32).toString('hex');
  let proxy: TcpProxy;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let service: ServiceProcess;
  let other: TestApp;

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    const target = new URL(REAL_REDIS_URL);
    proxy = new TcpProxy(target.hostname, Number(target.port || 6379));
    await proxy.start();
    proxy.cut();
    service = await startServiceProcess({
      DATABASE_URL: scratch.url,
      MIGRATE_ON_START: 'true',
      REDIS_URL: proxy.through(REAL_REDIS_URL),
      REDIS_KEY_PREFIX: prefix,
      ENCRYPTION_KEY: key,
      REQUIRE_EMAIL_VERIFICATION: 'false',
      // As startTestApp's: the other instance accepts this one's tokens.
      JWT_ISSUER: 'https://auth.example.com',
      JWT_AUDIENCE: 'example-api',
      ...Object.fromEntries(['LOGIN', 'REGISTER', 'REFRESH'].flatMap((g) => [[`RATE_LIMIT_${g}_IP`, 'off'], [`RATE_LIMIT_${g}_ID`, 'off']])),
    });
    // Another instance of the same fleet, with Redis all along.
    other = await startTestApp({ databaseUrl: scratch.url, env: { REDIS_URL: REAL_REDIS_URL, REDIS_KEY_PREFIX: prefix, ENCRYPTION_KEY: key, REQUIRE_EMAIL_VERIFICATION: 'false' } });
  }, 90_000);
  afterAll(async () => {
    await other?.stop();
    await service?.stop();
    await proxy?.close();
    await scratch?.drop();
    await dropKeyPrefix(prefix);
  });

  const ready = () => call(service.base, '/health/ready');
  const login = (email: string, password: string) => call(service.base, '/api/v1/auth/login', { body: { email, password } });

  it('starts and serves degraded, says so once, and becomes ok when Redis answers, revocations then shared as usual', async () => {
    const down = await ready();
    expect([down.status, down.body.status, down.body.checks.cache]).toEqual([200, 'degraded', 'down']);
    expect(service.output()).toContain('redis unreachable at start');
    expect(service.output()).not.toContain(proxy.through(REAL_REDIS_URL));

    const email = 'early.bird@example.com';
    expect((await call(service.base, '/api/v1/auth/register', { body: { email, password: PASSWORD } })).status).toBe(201);
    expect((await login(email, 'not the password at all')).status).toBe(401);
    const first = await login(email, PASSWORD);
    expect(first.status).toBe(200);
    const token = first.body.data.tokens.access_token as string;
    expect((await call(service.base, '/api/v1/auth/validate', { token })).status).toBe(200);

    proxy.restore();
    await eventually(async () => (await ready()).body.checks.cache === 'up', 20_000, 'the cache up');
    const up = await ready();
    expect([up.status, up.body.status]).toEqual([200, 'ok']);
    expect(service.child.exitCode).toBeNull();

    // The other instance holds the session as live (in Redis and its local cache); a logout here reaches it.
    await other.http.get('/api/v1/auth/validate').set('Authorization', `Bearer ${token}`).expect(200);
    expect((await call(service.base, '/api/v1/auth/logout', { method: 'POST', token })).status).toBe(200);
    await other.http.get('/api/v1/auth/validate').set('Authorization', `Bearer ${token}`).expect(401);
    expect((await call(service.base, '/api/v1/auth/validate', { token })).status).toBe(401);

    // And the other way: a logout there is refused here at once.
    const second = await login(email, PASSWORD);
    const again = second.body.data.tokens.access_token as string;
    expect((await call(service.base, '/api/v1/auth/validate', { token: again })).status).toBe(200);
    await other.http.post('/api/v1/auth/logout').set('Authorization', `Bearer ${again}`).expect(200);
    expect((await call(service.base, '/api/v1/auth/validate', { token: again })).status).toBe(401);
  }, 90_000);
});

/** The adapters under it: an unconnected client trusts nothing until Redis has been up, and recovers by itself. */
describeWhen(REAL_REDIS_SELECTED, 'Redis')('a Redis client that could not connect at start (connectRedis `degrade`)', () => {
  const silent = pino({ level: 'silent' });
  const prefix = uniqueKeyPrefix();
  let proxy: TcpProxy;
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);

  beforeAll(async () => {
    const target = new URL(REAL_REDIS_URL);
    proxy = new TcpProxy(target.hostname, Number(target.port || 6379));
    await proxy.start();
    process.on('unhandledRejection', onRejection);
  });
  afterAll(async () => {
    // A client destroyed while node-redis sleeps between attempts (up to 2 s) ends when that sleep does.
    await new Promise((r) => setTimeout(r, 2_100));
    process.off('unhandledRejection', onRejection);
    await proxy?.close();
    await dropKeyPrefix(prefix);
  });

  it('session cache distrusted and link untrusted until Redis answers, then both in use again; no unhandled rejection', async () => {
    const admin = createClient({ url: REAL_REDIS_URL });
    await admin.connect();
    // An entry another instance wrote: not to be trusted by an instance that has not seen Redis up yet.
    await admin.set(`${prefix}session:s1`, JSON.stringify({ u: 'u1', x: Date.now() + 3_600_000 }), { EX: 60 });
    proxy.cut();
    const started = Date.now();
    const client = await connectRedis(proxy.through(REAL_REDIS_URL), silent, { mode: 'standalone' }, () => undefined, 'degrade');
    try {
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(client.isReady).toBe(false);
      const sessions = new RedisSessionStateCache(client, prefix, { ttlSeconds: 1, revokedTtlSeconds: 60 });
      const link = new RedisInvalidationLink(client, prefix, silent, { heartbeatMs: 50, silenceMs: 600, maxTransitMs: 100 });
      let reestablished = 0;
      link.listen({ invalidate: () => undefined, reestablished: () => (reestablished += 1) });
      link.start();
      expect(await sessions.get('s1')).toBeNull();
      await new Promise((r) => setTimeout(r, 700));
      expect([link.trusted(), client.isReady]).toEqual([false, false]);

      proxy.restore();
      await eventually(() => client.isReady && link.trusted(), 10_000, 'connected and the link trusted');
      expect(reestablished).toBeGreaterThanOrEqual(1);
      // The first `ready` counts as a reconnect: one TTL (1 s here) of database reads, then the cache again.
      expect(await sessions.get('s1')).toBeNull();
      await new Promise((r) => setTimeout(r, 1_100));
      expect(await sessions.get('s1')).toMatchObject({ userId: 'u1', revoked: false });
      await link.close();
    } finally {
      await client.close();
      await admin.quit();
    }
  }, 30_000);

  it('closed before Redis ever answered: no unhandled rejection, nothing left connecting', async () => {
    proxy.cut();
    const client = await connectRedis(proxy.through(REAL_REDIS_URL), silent, { mode: 'standalone' }, () => undefined, 'degrade');
    const link = new RedisInvalidationLink(client, prefix, silent, { heartbeatMs: 50, silenceMs: 600, maxTransitMs: 100 });
    link.start();
    await new Promise((r) => setTimeout(r, 300));
    await link.close();
    await client.close();
    proxy.restore();
    await new Promise((r) => setTimeout(r, 1_500));
    expect([client.isOpen, client.isReady]).toEqual([false, false]);
    expect(rejections).toEqual([]);
  }, 30_000);

  it('a server that answers and refuses (wrong credentials) still fails the start; `require` still fails without Redis', async () => {
    const url = new URL(REAL_REDIS_URL);
    url.username = `nobody-${randomBytes(4).toString('hex')}`;
    url.password = 'wrong';
    await expect(connectRedis(url.toString(), silent, { mode: 'standalone' }, () => undefined, 'degrade')).rejects.toThrow(/cannot connect to Redis at REDIS_URL/);
    proxy.cut();
    await expect(connectRedis(proxy.through(REAL_REDIS_URL), silent)).rejects.toThrow(/cannot connect to Redis at REDIS_URL: no connection within 10000 ms/);
    proxy.restore();
    expect(rejections).toEqual([]);
  }, 30_000);

  /**
   * The third review of stop 51: a Redis at `maxclients` answers a new connection `ERR max number of clients reached`,
   * an error reply, which failed the start as a misconfiguration would: the incident this start was made for (a
   * reconnect storm) kept new instances from starting again. Only a reply that says the configuration is wrong fails it.
   */
  it('a Redis at maxclients is an outage, not a misconfiguration: the start goes on degraded and connects once a place frees', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'redis-maxclients-'));
    const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxclients', '1', '--dir', dir], { stdio: 'ignore' });
    let hog: ReturnType<typeof connect> | null = null;
    let client: Awaited<ReturnType<typeof connectRedis>> | null = null;
    try {
      await eventually(
        () =>
          new Promise<boolean>((resolve) => {
            const probe = connect(port, '127.0.0.1', () => {
              probe.destroy();
              resolve(true);
            });
            probe.on('error', () => resolve(false));
          }),
        10_000,
        'the scratch redis-server listening',
      );
      // The one place, held: a PING answered PONG (a connection made while the readiness probe's was still counted
      // is refused with the max-clients error instead, and is tried again).
      const holdThePlace = () =>
        new Promise<ReturnType<typeof connect> | null>((resolve) => {
          const socket = connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
          socket.once('data', (chunk: Buffer) => {
            if (chunk.toString().startsWith('+PONG')) resolve(socket);
            else {
              socket.destroy();
              resolve(null);
            }
          });
          socket.on('error', () => resolve(null));
        });
      for (let tries = 0; hog === null && tries < 50; tries += 1) {
        hog = await holdThePlace();
        if (hog === null) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      if (hog === null) throw new Error("could not take the scratch Redis's one place");
      client = await connectRedis(`redis://127.0.0.1:${port}`, silent, { mode: 'standalone' }, () => undefined, 'degrade');
      expect(client.isReady).toBe(false);
      hog.destroy();
      await eventually(() => client!.isReady, 10_000, 'connected once a place freed');
      expect(rejections).toEqual([]);
    } finally {
      hog?.destroy();
      if (client?.isOpen) await client.close();
      else client?.destroy();
      server.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
