import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { dropKeyPrefix, REAL_REDIS_URL, uniqueKeyPrefix } from '../support/servers';
import { TcpProxy } from '../support/tcp-proxy';
import { startTestApp, startServiceProcess, MODES } from '../support/app';

const PASSWORD = 'correct horse battery staple';

async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the session cache never hides a revocation for long', () => {
  it('a SESSION_CACHE_TTL over 60 s is refused at start, naming the variable', async () => {
    const outcome = await startServiceProcess({ SESSION_CACHE_TTL: '61s' }).then(
      async (started) => (await started.stop(), 'it started'),
      (error: Error) => error.message,
    );
    expect(outcome).toMatch(/SESSION_CACHE_TTL must be a duration .* between 1s and 60s/);
  }, 60_000);

  /**
   * Instance A loses its link to Redis (a proxy cut) while instance B, on the same database and Redis, has the
   * session cached as live: A's write of the revoked marker cannot land, so A must not answer the logout with
   * success; B stops accepting the session within SESSION_CACHE_TTL, and A writes the marker when it is back.
   */
  if (MODES.includes('servers')) {
    it('when the revoked marker cannot be written, the revoking request does not answer success', async () => {
      const prefix = uniqueKeyPrefix();
      const target = new URL(REAL_REDIS_URL);
      const proxy = new TcpProxy(target.hostname, Number(target.port || 6379));
      await proxy.start();
      const env = { REDIS_KEY_PREFIX: prefix, ENCRYPTION_KEY: randomBytes(32).toString('hex'), REQUIRE_EMAIL_VERIFICATION: 'false', SESSION_CACHE_TTL: '2s' };
      const a = await startTestApp({ backend: 'postgres', env: { ...env, REDIS_URL: proxy.through(REAL_REDIS_URL) } });
      const b = await startTestApp({ databaseUrl: a.config.databaseUrl!, env: { ...env, REDIS_URL: REAL_REDIS_URL } });
      const redis = createClient({ url: REAL_REDIS_URL });
      redis.on('error', () => undefined);
      await redis.connect();
      try {
        const created = await a.http.post('/api/v1/auth/register').send({ email: 'dora@example.com', password: PASSWORD }).expect(201);
        const token = created.body.data.tokens.access_token as string;
        const sid = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sid: string }).sid;
        await b.http.get('/api/v1/auth/validate').set('Authorization', `Bearer ${token}`).expect(200);
        expect(await redis.get(`${prefix}session:${sid}`)).toMatch(/^\{/); // cached live, shared

        proxy.cut();
        const logout = await a.http.post('/api/v1/auth/logout').set('Authorization', `Bearer ${token}`);
        expect(logout.status).toBe(503);
        expect(logout.body).toMatchObject({ success: false, error: { code: 'SERVICE_UNAVAILABLE' } });
        expect(JSON.stringify(logout.body)).not.toMatch(/redis|ECONN|socket/i);
        // Committed all the same: A reads the database, and B stops trusting its live entry within the TTL.
        await a.http.get('/api/v1/auth/validate').set('Authorization', `Bearer ${token}`).expect(401);
        await eventually(async () => (await b.http.get('/api/v1/auth/validate').set('Authorization', `Bearer ${token}`)).status === 401, 5_000, 'B refuses');

        proxy.restore();
        await eventually(async () => (await redis.get(`${prefix}session:${sid}`)) === 'revoked', 15_000, 'A writes the marker on reconnect');
        await b.http.get('/api/v1/auth/validate').set('Authorization', `Bearer ${token}`).expect(401);
      } finally {
        await redis.close();
        await b.stop();
        await a.stop();
        await proxy.close();
        await dropKeyPrefix(prefix);
      }
    }, 60_000);
  } else {
    it('the lost-revocation test needs the real PostgreSQL and Redis: left out here (CI=true runs it)', () => {
      expect(MODES).toEqual(['embedded']);
    });
  }
});
