import { DomainError } from '@domain/shared/domain-error';
import { FAULT_PATH, buildTestApp, expectErrorEnvelope, type TestApp } from './support/test-app';

describe('HTTP app: routing, envelopes and cross-cutting headers', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp();
  });

  describe('X-Request-ID', () => {
    it('echoes a well-formed caller id on success and on errors', async () => {
      const ok = await t.http().get('/health/live').set('X-Request-ID', 'abc.DEF-123_x');
      expect(ok.headers['x-request-id']).toBe('abc.DEF-123_x');
      const notFound = await t.http().get('/nope').set('X-Request-ID', 'trace-42');
      expect(notFound.headers['x-request-id']).toBe('trace-42');
      expect(notFound.body.meta.request_id).toBe('trace-42');
    });

    it.each([
      ['with spaces', 'a b'],
      ['with CRLF-like content', 'abc%0d%0aSet-Cookie:x'],
      ['too long', 'x'.repeat(129)],
      ['with quotes', '"quoted"'],
    ])('replaces an id %s with a new UUID', async (_label, value) => {
      const res = await t.http().get('/api/v1/nope').set('X-Request-ID', value);
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(res.body.meta.request_id).toBe(res.headers['x-request-id']);
    });

    it('accepts exactly 128 characters and generates one when absent', async () => {
      const max = 'y'.repeat(128);
      expect((await t.http().get('/health/live').set('X-Request-ID', max)).headers['x-request-id']).toBe(max);
      const a = await t.http().get('/health/live');
      const b = await t.http().get('/health/live');
      expect(a.headers['x-request-id']).toEqual(expect.any(String));
      expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
    });
  });

  describe('routing errors', () => {
    it('answers an unknown route with 404 ROUTE_NOT_FOUND in the envelope', async () => {
      const res = await t.http().get('/api/v1/does-not-exist');
      expect(res.status).toBe(404);
      expectErrorEnvelope(res.body, 'ROUTE_NOT_FOUND');
    });

    it('marks every error no-store, outside /api/v1 too (a review of stop 63: a 404 there had no Cache-Control)', async () => {
      for (const path of ['/nope', '/docs/assets/nothing.js', '/.well-known/nothing']) {
        const res = await t.http().get(path);
        expect([path, res.status, res.headers['cache-control']]).toEqual([path, 404, 'no-store']);
      }
    });

    it('answers a known path with the wrong method with 405 and Allow', async () => {
      const res = await t.http().delete('/api/v1/auth/login');
      expect(res.status).toBe(405);
      expectErrorEnvelope(res.body, 'METHOD_NOT_ALLOWED');
      expect(res.headers['allow']).toContain('POST');
      const get = await t.http().post('/api/v1/users/me');
      expect(get.status).toBe(405);
      expect(get.headers['allow']).toMatch(/GET/);
    });

    it('answers an unknown method on an unknown path with 404, not 501', async () => {
      const res = await t.http().patch('/nowhere');
      expect(res.status).toBe(404);
    });

    it('answers OPTIONS on a known path with 204 and Allow', async () => {
      const res = await t.http().options('/api/v1/auth/login');
      expect(res.status).toBe(204);
      expect(res.headers['allow']).toContain('POST');
    });
  });

  describe('error envelope and mapper', () => {
    it('answers a missing bearer token with 401 UNAUTHENTICATED and WWW-Authenticate: Bearer', async () => {
      const res = await t.http().get('/api/v1/users/me');
      expect(res.status).toBe(401);
      expectErrorEnvelope(res.body, 'UNAUTHENTICATED');
      expect(res.headers['www-authenticate']).toBe('Bearer');
    });

    it.each(['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer two tokens', 'Token abc'])('treats Authorization "%s" as missing', async (value) => {
      const res = await t.http().get('/api/v1/auth/validate').set('Authorization', value);
      expect(res.status).toBe(401);
      expectErrorEnvelope(res.body, 'UNAUTHENTICATED');
    });

    it('answers a rejected token with 401 INVALID_TOKEN and the RFC 6750 challenge', async () => {
      const res = await t.http().get('/api/v1/auth/validate').set('Authorization', 'Bearer not.a.token');
      expect(res.status).toBe(401);
      expectErrorEnvelope(res.body, 'INVALID_TOKEN');
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    });

    // No real adapter leaks a raw error or throws FORBIDDEN / a timed lockout: these go through the
    // purpose-built fault route (support/test-app.ts), which sits inside the real middleware chain.
    it('reaches the purpose-built fault route through the whole middleware chain', async () => {
      const res = await t.http().get(FAULT_PATH).set('X-Request-ID', 'probe-1');
      expect(res.status).toBe(204);
      expect(res.headers['x-request-id']).toBe('probe-1');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(t.logs.find((l) => l['msg'] === 'request completed' && l['request_id'] === 'probe-1')).toMatchObject({ status: 204 });
    });

    it('answers an unexpected error with a generic 500, logs it, and leaks nothing', async () => {
      t.faults.error = new Error('relation "users" does not exist: SELECT password_hash FROM users');
      const res = await t.http().get(FAULT_PATH).set('Authorization', 'Bearer abc').set('X-Request-ID', 'boom-1');
      expect(res.status).toBe(500);
      const error = expectErrorEnvelope(res.body, 'INTERNAL_ERROR');
      expect(error).toEqual({ code: 'INTERNAL_ERROR', message: 'An unexpected error occurred.' });
      expect(JSON.stringify(res.body)).not.toMatch(/SELECT|password_hash|at /);
      const logged = t.logs.find((l) => l['msg'] === 'unhandled error');
      expect(logged).toMatchObject({ request_id: 'boom-1', err: { message: expect.stringContaining('SELECT') } });
    });

    it('maps domain errors thrown by a handler to their status', async () => {
      t.faults.error = new DomainError('FORBIDDEN', 'Nope.');
      const res = await t.http().get(FAULT_PATH).set('Authorization', 'Bearer abc');
      expect(res.status).toBe(403);
      expect(expectErrorEnvelope(res.body, 'FORBIDDEN')).toEqual({ code: 'FORBIDDEN', message: 'Nope.' });
    });

    it('adds Retry-After when a lockout error says how long to wait', async () => {
      const locked = Object.assign(new DomainError('ACCOUNT_LOCKED', 'Locked.'), { retryAfterSeconds: 90.2 });
      t.faults.error = locked;
      const res = await t.http().get(FAULT_PATH).set('Authorization', 'Bearer abc');
      expect(res.status).toBe(429);
      expect(res.headers['retry-after']).toBe('91');
    });
  });

  describe('caching and security headers', () => {
    it('marks every /api/v1 response no-store, errors included', async () => {
      for (const res of [
        await t.http().get('/api/v1/users/me'),
        await t.http().post('/api/v1/auth/login').set('Content-Type', 'text/plain').send('x'),
        await t.http().get('/api/v1/unknown'),
      ]) {
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.headers['pragma']).toBe('no-cache');
      }
    });

    it('sends a strict CSP, nosniff and frame protection', async () => {
      const res = await t.http().get('/api/v1/users/me');
      expect(res.headers['content-security-policy']).toContain("default-src 'none'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['x-powered-by']).toBeUndefined();
    });

    it('sends no CORS headers when no origin is configured', async () => {
      const res = await t.http().get('/health/live').set('Origin', 'https://evil.test');
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('allows configured origins only, never reflecting others', async () => {
      const cors = await buildTestApp({ corsOrigins: ['https://app.example.com'] });
      const good = await cors.http().get('/health/live').set('Origin', 'https://app.example.com');
      expect(good.headers['access-control-allow-origin']).toBe('https://app.example.com');
      expect(good.headers['access-control-allow-credentials']).toBeUndefined();
      const evil = await cors.http().get('/health/live').set('Origin', 'https://evil.test');
      expect(evil.headers['access-control-allow-origin']).toBeUndefined();
      const preflight = await cors
        .http()
        .options('/api/v1/auth/login')
        .set('Origin', 'https://app.example.com')
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'content-type,authorization');
      expect(preflight.status).toBe(204);
      expect(preflight.headers['access-control-allow-headers']).toMatch(/Authorization/);
    });
  });

  describe('request log', () => {
    it('logs method, path without query, status and duration, but no headers or body', async () => {
      await t
        .http()
        .post('/api/v1/auth/verify?token=secret-in-query')
        .set('Authorization', 'Bearer secret-header')
        .set('Content-Type', 'application/json')
        .set('X-Request-ID', 'log-1')
        .send({ token: 'secret-in-body' });
      const line = t.logs.find((l) => l['msg'] === 'request completed' && l['request_id'] === 'log-1');
      expect(line).toMatchObject({ method: 'POST', path: '/api/v1/auth/verify', status: 400, duration_ms: expect.any(Number) });
      expect(JSON.stringify(t.logs)).not.toMatch(/secret-/);
    });

    it('cuts a long path to 256 characters and says how much was left out', async () => {
      const path = `/api/v1/${'a'.repeat(10_000)}`;
      await t.http().get(path).set('X-Request-ID', 'log-long');
      const line = t.logs.find((l) => l['msg'] === 'request completed' && l['request_id'] === 'log-long');
      expect(line?.['path']).toBe(`${path.slice(0, 256)}…(+${path.length - 256})`);
    });
  });

  describe('standards-shaped endpoints', () => {
    it('serves the JWKS without envelope, cacheable for five minutes', async () => {
      const res = await t.http().get('/.well-known/jwks.json');
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('public, max-age=300');
      // The real key manager publishes the active key and the pre-published next one, public members only.
      const { kid } = t.keys.activeKey();
      expect(res.body).toEqual(t.keys.jwks());
      expect(res.body.keys).toHaveLength(2);
      expect(res.body.keys).toContainEqual(expect.objectContaining({ kid, use: 'sig', alg: 'EdDSA', kty: 'OKP', crv: 'Ed25519' }));
      for (const key of res.body.keys) expect(key).not.toHaveProperty('d');
    });

    it('answers liveness and readiness without envelope', async () => {
      expect((await t.http().get('/health/live')).body).toEqual({ status: 'ok', checks: { database: 'up', cache: 'up', broker: 'up' } });
      const ready = await t.http().get('/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body).toEqual({ status: 'ok', checks: { database: 'up', cache: 'up', broker: 'up' } });
    });

    it('answers readiness 503 when the database is down or the check itself fails; 200 degraded when the cache is', async () => {
      t.health.checks = { database: 'up', cache: 'down', broker: 'up' };
      const degraded = await t.http().get('/health/ready');
      expect({ status: degraded.status, body: degraded.body }).toEqual({ status: 200, body: { status: 'degraded', checks: { database: 'up', cache: 'down', broker: 'up' } } });
      t.health.checks = { database: 'down', cache: 'up', broker: 'up' };
      const down = await t.http().get('/health/ready');
      expect(down.status).toBe(503);
      expect(down.body).toEqual({ status: 'unavailable', checks: { database: 'down', cache: 'up', broker: 'up' } });
      t.health.checks = { database: 'up', cache: 'down', broker: 'up' };
      await t.http().get('/health/ready').expect(200);
      // Liveness stays 200 (no restart for a dependency) and reports the latest readiness result, without a check.
      t.health.checks = { database: 'down', cache: 'down', broker: 'down' };
      const live = await t.http().get('/health/live');
      expect({ status: live.status, body: live.body }).toEqual({ status: 200, body: { status: 'ok', checks: { database: 'up', cache: 'down', broker: 'up' } } });
      t.health.fail = true;
      const failing = await t.http().get('/health/ready');
      expect(failing.status).toBe(503);
      expect(JSON.stringify(failing.body)).not.toContain('ECONNREFUSED');
    });

    /** Outside review, 2026-12-03: a probe every 5 s logged each 503 at error through an outage; a drain read 200. */
    it('answers readiness 503 draining once shutting down, and logs its 503s at info, not as failures', async () => {
      t.health.checks = { database: 'down', cache: 'up', broker: 'up' };
      const down = await t.http().get('/health/ready').expect(503);
      const line = t.logs.find((l) => l.request_id === down.headers['x-request-id']);
      expect([line?.level, line?.msg]).toEqual([30, 'request completed']);
      t.health.checks = { database: 'up', cache: 'up', broker: 'up' };
      t.health.draining = true;
      const draining = await t.http().get('/health/ready');
      expect({ status: draining.status, body: draining.body }).toEqual({ status: 503, body: { status: 'draining', checks: { database: 'up', cache: 'up', broker: 'up' } } });
      await t.http().get('/health/live').expect(200);
    });

    /** Outside review, 2026-12-05: new code on a database one migration behind was ready, and sign-ups answered 500. */
    it('answers readiness 503 `schema: behind` while migrations are pending; liveness stays 200 and never asks', async () => {
      t.health.pendingMigrations = 2;
      const behind = await t.http().get('/health/ready');
      expect({ status: behind.status, body: behind.body }).toEqual({
        status: 503,
        body: { status: 'unavailable', checks: { database: 'up', cache: 'up', broker: 'up' }, schema: 'behind', pending_migrations: 2 },
      });
      const reads = t.health.schemaReads;
      const live = await t.http().get('/health/live');
      expect({ status: live.status, body: live.body }).toEqual({ status: 200, body: { status: 'ok', checks: { database: 'up', cache: 'up', broker: 'up' } } });
      expect(t.health.schemaReads).toBe(reads);
      // A database that is down is reported as such (its schema is not asked).
      t.health.checks = { database: 'down', cache: 'up', broker: 'up' };
      expect((await t.http().get('/health/ready')).body).toEqual({ status: 'unavailable', checks: { database: 'down', cache: 'up', broker: 'up' } });
      t.health.checks = { database: 'up', cache: 'up', broker: 'up' };
      t.health.pendingMigrations = 0;
      await t.http().get('/health/ready').expect(200);
    });

    it('reports a broker outage but stays ready (the outbox keeps the events)', async () => {
      t.health.checks = { database: 'up', cache: 'up', broker: 'down' };
      const ready = await t.http().get('/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body).toEqual({ status: 'ok', checks: { database: 'up', cache: 'up', broker: 'down' } });
    });
  });
});
