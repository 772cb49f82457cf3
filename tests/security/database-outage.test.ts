import { Client } from 'pg';
import { CANCEL_GRACE_MS } from '@infrastructure/persistence/typeorm/query-deadline';
import { createScratchDatabase, REAL_DATABASE_URL } from '../support/servers';
import { TcpProxy } from '../support/tcp-proxy';
import { MODES, PASSWORD, signUp, startTestApp, type TestApp } from '../support/app';

/**
 * PostgreSQL goes away under a running instance (a proxy cuts every connection and refuses new ones): requests
 * that need it answer 503 SERVICE_UNAVAILABLE with Retry-After, in the envelope, never a 500 (an outside review
 * saw 500 INTERNAL_ERROR); readiness says so; and it all works again once the database is back.
 * The link stalls (packets dropped, nothing reset): the same answer within DATABASE_QUERY_TIMEOUT, where requests
 * used to wait for as long as the stall lasted (an outside review: no client-side query deadline).
 * A healthy link to a slow server (a row lock held past the deadline): the statement is cancelled on the server, so
 * the 503 means nothing was written (an outside review: the refresh's orphaned UPDATE committed after its 503, and
 * the retry was taken for refresh-token reuse and revoked the session).
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

  describe('when the link to PostgreSQL stalls', () => {
    const DEADLINE_MS = 1000;
    /** Event-loop and scheduling slack on a busy machine; a request held by the stall would take the jest timeout. */
    const MARGIN_MS = 1500;
    let proxy: TcpProxy;
    let t: TestApp;
    let drop: () => Promise<void>;

    beforeAll(async () => {
      const scratch = await createScratchDatabase();
      drop = scratch.drop;
      const target = new URL(REAL_DATABASE_URL);
      proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
      await proxy.start();
      t = await startTestApp({ databaseUrl: proxy.through(scratch.url), env: { REQUIRE_EMAIL_VERIFICATION: 'true', DATABASE_QUERY_TIMEOUT: '1s' } });
    }, 60_000);
    afterAll(async () => {
      // A failed run may leave the stall on, which would hold the requests still waiting and so the shutdown.
      proxy?.restore();
      await t?.stop();
      await proxy?.close();
      await drop?.();
    });

    it('answers 503 SERVICE_UNAVAILABLE within the deadline and its grace where it needs the database, and recovers', async () => {
      const { tokens } = await signUp(t, 'erin@example.com');
      const timed = async (send: () => PromiseLike<{ status: number; body: { success?: boolean; error?: { code?: string } }; headers: Record<string, string> }>) => {
        const started = Date.now();
        const res = await send();
        return { res, ms: Date.now() - started };
      };
      proxy.stall();
      try {
        const answers = [
          await timed(() => t.http.post('/api/v1/auth/login').send({ email: 'erin@example.com', password: PASSWORD })),
          await timed(() => t.http.post('/api/v1/auth/refresh').send({ refresh_token: tokens.refresh_token })),
          await timed(() => t.http.get('/api/v1/users/me/sessions').set('Authorization', `Bearer ${tokens.access_token}`)),
        ];
        for (const { res, ms } of answers) {
          expect([res.status, res.body.success, res.body.error?.code, res.headers['retry-after']]).toEqual([503, false, 'SERVICE_UNAVAILABLE', '5']);
          // The deadline, then the grace for a reply to the cancel request (none comes over the stalled link).
          expect(ms).toBeLessThan(DEADLINE_MS + CANCEL_GRACE_MS + MARGIN_MS);
        }
        expect((await t.http.get('/health/ready')).status).toBe(503);
      } finally {
        proxy.restore();
      }

      const deadline = Date.now() + 20_000;
      while ((await t.http.get('/health/ready')).status !== 200) {
        if (Date.now() > deadline) throw new Error('not ready again within 20 s');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await t.http.post('/api/v1/auth/login').send({ email: 'erin@example.com', password: PASSWORD }).expect(200);
      // The refresh that failed during the stall changed nothing: its token still rotates.
      await t.http.post('/api/v1/auth/refresh').send({ refresh_token: tokens.refresh_token }).expect(200);
      await t.http.get('/api/v1/users/me/sessions').set('Authorization', `Bearer ${tokens.access_token}`).expect(200);
    }, 20_000);
  });

  describe('when a lock holds a statement past the deadline (a healthy link, a slow server)', () => {
    const DEADLINE_MS = 1000;
    const MARGIN_MS = 1500;
    let t: TestApp;
    let url: string;
    let drop: () => Promise<void>;

    beforeAll(async () => {
      const scratch = await createScratchDatabase();
      url = scratch.url;
      drop = scratch.drop;
      t = await startTestApp({ databaseUrl: url, env: { REQUIRE_EMAIL_VERIFICATION: 'true', DATABASE_QUERY_TIMEOUT: '1s' } });
    }, 60_000);
    afterAll(async () => {
      await t?.stop();
      await drop?.();
    });

    it('a refresh held by a row lock answers 503 having changed nothing: its retry succeeds and the session lives on', async () => {
      const { user, tokens } = await signUp(t, 'fern@example.com');
      const locker = new Client({ connectionString: url });
      const observer = new Client({ connectionString: url });
      await locker.connect();
      await observer.connect();
      try {
        await locker.query('BEGIN');
        await locker.query('SELECT id FROM sessions WHERE user_id = $1 FOR UPDATE', [user.id]);
        const started = Date.now();
        const held = await t.http.post('/api/v1/auth/refresh').send({ refresh_token: tokens.refresh_token });
        expect([held.status, held.body.error?.code, held.headers['retry-after']]).toEqual([503, 'SERVICE_UNAVAILABLE', '5']);
        expect(Date.now() - started).toBeLessThan(DEADLINE_MS + MARGIN_MS);
        // The service's statement was cancelled on the server, not left waiting for the lock.
        const waiting = await observer.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
        expect(waiting.rows).toEqual([{ n: 0 }]);
        await new Promise((resolve) => setTimeout(resolve, 1000)); // the lock outlives the deadline, as in the review
      } finally {
        await locker.query('COMMIT');
        await locker.end();
        await observer.end();
      }
      // The client retries after Retry-After, past the refresh grace window (10 s): the token was never rotated.
      t.clock.advance(15);
      const retry = await t.http.post('/api/v1/auth/refresh').send({ refresh_token: tokens.refresh_token });
      expect([retry.status, retry.body.error?.code]).toEqual([200, undefined]);
      const rotated = (retry.body.data as { tokens: { access_token: string; refresh_token: string } }).tokens;
      await t.http.post('/api/v1/auth/refresh').send({ refresh_token: rotated.refresh_token }).expect(200);
      await t.http.get('/api/v1/users/me/sessions').set('Authorization', `Bearer ${rotated.access_token}`).expect(200);
    }, 20_000);
  });
} else {
  it('the database outage test needs the real PostgreSQL: left out here (CI=true runs it)', () => {
    expect(MODES).toEqual(['embedded']);
  });
}
