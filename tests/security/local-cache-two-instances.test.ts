import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createClient } from 'redis';
import { createScratchDatabase } from '../support/servers';
import { MODES, NO_LIMITS, call, startServiceProcess, type ServiceProcess } from '../support/app';
import { TcpProxy } from '../support/tcp-proxy';
import { freePort } from '../support/ports';

const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'another quite long passphrase';
/** Issue 13: a change made through one instance is refused by the other within this. */
const WITHIN_MS = 100;
const ROUNDS = 3;


/** A throw-away redis-server (no persistence) on `port`, stopped by its pid; restartable on the same port. */
class OwnRedis {
  private child: ChildProcess | null = null;
  private readonly dir = mkdtempSync(join(tmpdir(), 'auth-redis-'));
  constructor(readonly port: number) {}
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
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

/**
 * Issue 13: two service processes on one PostgreSQL (a scratch database) and their own Redis. Each keeps session
 * and account state in a local cache; a change made through A must be refused by B within 100 ms, B must not
 * serve from its local cache while its link to Redis is cut, and after Redis restarts nothing stale is served.
 */
if (MODES.includes('servers')) {
  describe('the local validate caches of two instances', () => {
    let a: ServiceProcess | undefined;
    let b: ServiceProcess | undefined;
    let redis: OwnRedis;
    let proxy: TcpProxy;
    let drop: (() => Promise<void>) | undefined;
    let databaseUrl = '';
    let adminToken = '';
    let users = 0;

    beforeAll(async () => {
      redis = new OwnRedis(await freePort());
      await redis.start();
      proxy = new TcpProxy('127.0.0.1', redis.port);
      await proxy.start();
      const scratch = await createScratchDatabase();
      drop = scratch.drop;
      databaseUrl = scratch.url;
      const env = {
        ...NO_LIMITS,
        DATABASE_URL: scratch.url,
        REDIS_KEY_PREFIX: 'local-cache:',
        ENCRYPTION_KEY: randomBytes(32).toString('hex'),
        APP_PUBLIC_URL: 'https://auth.example.com',
        REQUIRE_EMAIL_VERIFICATION: 'false',
        MIGRATE_ON_START: 'true',
      };
      a = await startServiceProcess({ ...env, REDIS_URL: redis.url });
      // B reaches Redis (its commands and its subscription) through a proxy the test can cut.
      b = await startServiceProcess({ ...env, REDIS_URL: proxy.through(redis.url) });
      const root = await register();
      await sql(`UPDATE users SET roles = '{user,admin}' WHERE id = '${root.userId}'`);
      adminToken = root.token;
    }, 120_000);
    afterAll(async () => {
      await a?.stop();
      await b?.stop();
      await proxy?.close();
      await redis?.close();
      await drop?.();
    });

    async function sql(text: string): Promise<void> {
      const client = new Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        await client.query(text);
      } finally {
        await client.end();
      }
    }

    const failure = (instance: ServiceProcess | undefined) => `\n--- A ---\n${a?.output() ?? ''}\n--- B ---\n${instance?.output() ?? ''}`;

    /** A new account registered through A; its first session's access token. */
    async function register(): Promise<{ email: string; userId: string; token: string }> {
      users += 1;
      const email = `user-${users}@example.com`;
      const created = await call(a!.base, '/api/v1/auth/register', { body: { email, password: PASSWORD } });
      expect(created.status).toBe(201);
      return { email, userId: created.body.data.user.id as string, token: created.body.data.tokens.access_token as string };
    }

    async function login(email: string, password = PASSWORD): Promise<string> {
      const res = await call(a!.base, '/api/v1/auth/login', { body: { email, password } });
      expect(res.status).toBe(200);
      return res.body.data.tokens.access_token as string;
    }

    /** Repeated validations on B: from the second on, B answers from its local cache. */
    async function warm(token: string): Promise<void> {
      for (let i = 0; i < 5; i += 1) {
        for (const path of ['/api/v1/auth/validate', '/api/v1/users/me']) {
          const res = await call(b!.base, path, { token });
          if (res.status !== 200) throw new Error(`warming ${path}: ${res.status} ${JSON.stringify(res.body)}${failure(b)}`);
        }
      }
    }

    /**
     * Polls B from the moment A answered until both routes refuse. Returns the latest time (ms after A answered)
     * at which a request that B still accepted was sent: what the change took to reach B, not counting how slowly
     * this (contended) machine answers the polls themselves. 0 when the first request was already refused.
     */
    async function refusedOnB(token: string, since: number): Promise<number> {
      const pending = new Set(['/api/v1/auth/validate', '/api/v1/users/me']);
      let lastAccepted = 0;
      for (;;) {
        for (const path of [...pending]) {
          const sentAt = performance.now() - since;
          const res = await call(b!.base, path, { token });
          if (res.status === 401) {
            expect(res.body.error.code).toBe('INVALID_TOKEN');
            pending.delete(path);
          } else {
            lastAccepted = Math.max(lastAccepted, sentAt);
          }
        }
        if (pending.size === 0) return lastAccepted;
        if (performance.now() - since > 5_000) throw new Error(`still accepted on B after 5 s: ${[...pending].join(', ')}${failure(b)}`);
      }
    }

    /** Until both instances trust their links again (their first heartbeats after a reconnect): a warm that sticks. */
    async function untilBothListen(): Promise<void> {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const ready = await Promise.all(
          [a!, b!].map((s) => fetch(`${s.base}/health/ready`).then(async (r) => ((await r.json()) as { checks: { cache: string } }).checks.cache === 'up', () => false)),
        );
        if (ready.every(Boolean)) break;
        if (Date.now() > deadline) throw new Error(`not ready again${failure(b)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 1_500));
    }

    /**
     * A heartbeat back over 100 ms late (this machine stalling B's process: seen on a loaded CI run, 2026-12-03)
     * rightly bypasses B's local cache until the next one: an attempt during which B logged that says nothing about
     * the cache, and is made again (at most five). An attempt refused with no bypass logged fails at once.
     */
    it('B answers from its local cache once warm (no read at all: the rows can be gone)', async () => {
      const start = b!.output().length;
      for (let attempt = 1; ; attempt += 1) {
        const { token } = await register();
        await warm(token);
        // Behind the service's back (no unit of work, no announcement): only B's local cache still knows the session.
        const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sid: string };
        await sql(`DELETE FROM sessions WHERE id = '${claims.sid}'`);
        const direct = createClient({ url: redis.url });
        await direct.connect();
        await direct.del(`local-cache:session:${claims.sid}`);
        await direct.close();
        const onB = await call(b!.base, '/api/v1/auth/validate', { token });
        const bypassed = b!.output().slice(start).includes('local caches bypassed');
        if (onB.status !== 200 && bypassed && attempt < 5) continue;
        expect({ status: onB.status, attempt }).toEqual({ status: 200, attempt });
        await expect(call(a!.base, '/api/v1/auth/validate', { token })).resolves.toMatchObject({ status: 401 });
        return;
      }
    });

    const actions: [string, (subject: { email: string; userId: string; token: string }) => Promise<string>][] = [
      [
        'a logout',
        async ({ token }) => {
          const res = await call(a!.base, '/api/v1/auth/logout', { body: {}, token });
          expect(res.status).toBe(200);
          return token;
        },
      ],
      [
        'a session revoke',
        async ({ email, token }) => {
          const other = await login(email);
          await warm(other);
          const { sid } = JSON.parse(Buffer.from(other.split('.')[1]!, 'base64url').toString()) as { sid: string };
          const res = await call(a!.base, `/api/v1/users/me/sessions/${sid}`, { method: 'DELETE', token });
          expect(res.status).toBe(200);
          return other;
        },
      ],
      [
        'a suspension (admin PATCH)',
        async ({ userId, token }) => {
          const res = await call(a!.base, `/api/v1/admin/users/${userId}`, { method: 'PATCH', body: { status: 'suspended' }, token: adminToken });
          expect(res.status).toBe(200);
          return token;
        },
      ],
      [
        'a password change (the other sessions)',
        async ({ email, token }) => {
          const other = await login(email);
          await warm(other);
          const res = await call(a!.base, '/api/v1/auth/password/change', { method: 'PUT', body: { current_password: PASSWORD, new_password: NEW_PASSWORD }, token });
          expect(res.status).toBe(200);
          return other;
        },
      ],
    ];

    it.each(actions)('%s through A is refused by /auth/validate and /users/me on B within 100 ms (rounds)', async (_name, act) => {
      const times: number[] = [];
      for (let round = 0; round < ROUNDS; round += 1) {
        const subject = await register();
        await warm(subject.token);
        const refused = await act(subject);
        times.push(await refusedOnB(refused, performance.now()));
      }
      expect(times.map((ms) => (ms <= WITHIN_MS ? "ok" : `${Math.round(ms)} ms`))).toEqual(times.map(() => "ok"));
    }, 60_000);

    it('with its link to Redis cut, B does not serve from its local cache; once back it listens again', async () => {
      const subject = await register();
      await warm(subject.token);
      proxy.cut();
      try {
        const res = await call(a!.base, '/api/v1/auth/logout', { body: {}, token: subject.token });
        expect(res.status).toBe(200);
        expect(await refusedOnB(subject.token, performance.now())).toBeLessThanOrEqual(WITHIN_MS);
      } finally {
        proxy.restore();
      }
      await untilBothListen();
      const next = await register();
      await warm(next.token);
      await expect(call(a!.base, '/api/v1/auth/logout', { body: {}, token: next.token })).resolves.toMatchObject({ status: 200 });
      expect(await refusedOnB(next.token, performance.now())).toBeLessThanOrEqual(WITHIN_MS);
    }, 60_000);

    it('after Redis restarts, nothing stale is served and revocation works again', async () => {
      const before = await register();
      const during = await register();
      await warm(before.token);
      await warm(during.token);
      await redis.stop();
      try {
        // The revocation stands in the database; A answers that it may not hold everywhere yet (no Redis).
        const res = await call(a!.base, '/api/v1/auth/logout', { body: {}, token: during.token });
        expect([res.status, res.body.error?.code]).toEqual([503, 'SERVICE_UNAVAILABLE']);
        await expect(call(b!.base, '/api/v1/auth/validate', { token: during.token })).resolves.toMatchObject({ status: 401 });
        await expect(call(b!.base, '/api/v1/auth/validate', { token: before.token })).resolves.toMatchObject({ status: 200 });
      } finally {
        await redis.start();
      }
      await untilBothListen();
      for (let i = 0; i < 5; i += 1) {
        for (const instance of [a!, b!]) {
          await expect(call(instance.base, '/api/v1/auth/validate', { token: during.token })).resolves.toMatchObject({ status: 401 });
          await expect(call(instance.base, '/api/v1/users/me', { token: during.token })).resolves.toMatchObject({ status: 401 });
        }
      }
      await warm(before.token);
      await expect(call(a!.base, '/api/v1/auth/logout', { body: {}, token: before.token })).resolves.toMatchObject({ status: 200 });
      expect(await refusedOnB(before.token, performance.now())).toBeLessThanOrEqual(WITHIN_MS);
    }, 90_000);
  });
} else {
  it('the two-instance local cache tests need the real PostgreSQL (see the warning; CI=true runs them)', () => {
    expect(MODES).toEqual(['embedded']);
  });
}
