import { createScratchDatabase, REAL_DATABASE_URL } from '../support/servers';
import { TcpProxy } from '../support/tcp-proxy';
import { MODES, PASSWORD, signUp, startTestApp, type TestApp } from '../support/app';

/**
 * PostgreSQL goes away under a running instance (a proxy cuts every connection and refuses new ones): requests
 * that need it answer 503 SERVICE_UNAVAILABLE with Retry-After, in the envelope, never a 500 (an outside review
 * saw 500 INTERNAL_ERROR); readiness says so; and it all works again once the database is back.
 */
if (MODES.includes('servers')) {
  describe('when PostgreSQL is unreachable', () => {
    let proxy: TcpProxy;
    let t: TestApp;
    let drop: () => Promise<void>;

    beforeAll(async () => {
      const scratch = await createScratchDatabase();
      drop = scratch.drop;
      const target = new URL(REAL_DATABASE_URL);
      proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
      await proxy.start();
      t = await startTestApp({ databaseUrl: proxy.through(scratch.url), env: { REQUIRE_EMAIL_VERIFICATION: 'true' } });
    }, 60_000);
    afterAll(async () => {
      await t?.stop();
      await proxy?.close();
      await drop?.();
    });

    it('answers 503 SERVICE_UNAVAILABLE with Retry-After where it needs the database, and recovers', async () => {
      const { tokens } = await signUp(t, 'dora@example.com');
      proxy.cut();
      const answers = [
        await t.http.post('/api/v1/auth/login').send({ email: 'dora@example.com', password: PASSWORD }),
        await t.http.post('/api/v1/auth/refresh').send({ refresh_token: tokens.refresh_token }),
        await t.http.get('/api/v1/users/me/sessions').set('Authorization', `Bearer ${tokens.access_token}`),
        await t.http.post('/api/v1/auth/password/reset').send({ email: 'dora@example.com' }),
      ];
      for (const res of answers) {
        expect([res.status, res.body.success, res.body.error?.code, res.headers['retry-after']]).toEqual([503, false, 'SERVICE_UNAVAILABLE', '5']);
        expect(JSON.stringify(res.body)).not.toMatch(/ECONN|postgres|Connection terminated|stack/i);
      }
      expect((await t.http.get('/health/ready')).status).toBe(503);

      proxy.restore();
      const deadline = Date.now() + 20_000;
      while ((await t.http.get('/health/ready')).status !== 200) {
        if (Date.now() > deadline) throw new Error('not ready again within 20 s');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await t.http.post('/api/v1/auth/login').send({ email: 'dora@example.com', password: PASSWORD }).expect(200);
    }, 60_000);
  });
} else {
  it('the database outage test needs the real PostgreSQL: left out here (CI=true runs it)', () => {
    expect(MODES).toEqual(['embedded']);
  });
}
