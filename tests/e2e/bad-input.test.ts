import { CreateAdmin } from '@application/admin/create-admin';
import { ROUTES } from '@interface/http/routes';
import type { RouteDef } from '@interface/http/routing/route';
import { PASSWORD, signUp, startTestApp, type TestApp } from '../support/app';

/** Every POST, PUT or PATCH of the route table that declares no body: a route added later is covered too. */
const BODYLESS = ROUTES.filter((route) => ['POST', 'PUT', 'PATCH'].includes(route.method) && route.body === undefined);

describe('bad input gets the contract codes, never a 500', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  }, 60_000);
  afterAll(async () => t.stop());

  const post = (path: string) => t.http.post(`/api/v1/auth/${path}`);

  it.each([
    ['malformed JSON', () => post('login').set('Content-Type', 'application/json').send('{"email": "a@b.c",'), 400, 'MALFORMED_JSON'],
    ['wrong content type', () => post('login').set('Content-Type', 'text/plain').send('email=a'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['unknown field at register', () => post('register').send({ email: 'x@example.com', password: 'long enough pw', role: 'admin' }), 400, 'VALIDATION_ERROR'],
    ['status at register', () => post('register').send({ email: 'x@example.com', password: 'long enough pw', email_verified: true }), 400, 'VALIDATION_ERROR'],
    ['oversized body', () => post('register').send({ email: 'x@example.com', password: 'p'.repeat(20_000) }), 413, 'PAYLOAD_TOO_LARGE'],
    ['wrong types', () => post('login').send({ email: 123, password: ['x'] }), 400, 'VALIDATION_ERROR'],
    ['operator object', () => post('login').send({ email: { $ne: null }, password: 'x' }), 400, 'VALIDATION_ERROR'],
    ['deep nesting', () => post('login').set('Content-Type', 'application/json').send(`${'['.repeat(5_000)}${']'.repeat(5_000)}`), 400, 'VALIDATION_ERROR'],
    ['10,000-deep nesting (over the size limit)', () => post('login').set('Content-Type', 'application/json').send(`{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}`), 413, 'PAYLOAD_TOO_LARGE'],
    ['array body', () => post('login').send([1, 2]), 400, undefined],
    ['unknown route', () => t.http.get('/api/v1/nope'), 404, 'ROUTE_NOT_FOUND'],
    ['wrong method', () => t.http.get('/api/v1/auth/login'), 405, 'METHOD_NOT_ALLOWED'],
    ['missing bearer', () => t.http.get('/api/v1/users/me'), 401, 'UNAUTHENTICATED'],
    ['garbage bearer', () => t.http.get('/api/v1/users/me').set('Authorization', 'Bearer ' + 'x'.repeat(9000)), 401, 'INVALID_TOKEN'],
    ['refresh with garbage', () => post('refresh').send({ refresh_token: "' OR 1=1 --" }), 401, 'INVALID_REFRESH_TOKEN'],
    ['verify with garbage', () => post('verify').send({ token: "'; DROP TABLE users; --" }), 400, 'INVALID_OR_EXPIRED_TOKEN'],
  ] as const)('%s', async (_name, send, status, code) => {
    const response = await send();
    expect(response.status).toBe(status);
    expect(response.body.success).toBe(false);
    if (code) expect(response.body.error.code).toBe(code);
    expect(JSON.stringify(response.body)).not.toMatch(/at .*\.ts:|SELECT|node_modules/);
  });

  /**
   * An outside review (2026-11-30): these routes answered 200 to `not json` and to `{"role":"admin"}`. Each now
   * refuses a body as a body route refuses bad input, and still takes nothing or `{}`, as clients send.
   */
  describe('a POST, PUT or PATCH route without a body refuses one, and takes nothing or {}', () => {
    let credentials: { user: string; admin: string; target: string };
    beforeAll(async () => {
      const user = await signUp(t, 'bodyless-user@example.com');
      const admin = await signUp(t, 'bodyless-admin@example.com');
      await t.app.container.get(CreateAdmin).execute({ email: 'bodyless-admin@example.com', password: PASSWORD });
      const target = await signUp(t, 'bodyless-target@example.com');
      credentials = { user: user.tokens.access_token, admin: admin.tokens.access_token, target: target.user.id };
    }, 30_000);

    /** The route called as someone it lets through, its path parameters naming the target account. */
    function call(route: RouteDef) {
      const path = route.path.replace(/:[A-Za-z_]+/g, credentials.target);
      const req = t.http[route.method.toLowerCase() as 'post'](path);
      if (route.auth === 'none') return req;
      if (route.auth === 'user') return req.set('Authorization', `Bearer ${credentials.user}`);
      if (typeof route.auth === 'object' && route.auth.role === 'admin') return req.set('Authorization', `Bearer ${credentials.admin}`);
      throw new Error(`no caller for ${route.method} ${route.path} (auth ${JSON.stringify(route.auth)}): teach this test one`);
    }
    const table = BODYLESS.map((route) => [`${route.method} ${route.path}`, route] as const);

    it('takes its routes from the route table (the MFA set-up and the admin actions at least)', () => {
      expect(BODYLESS.map((route) => `${route.method} ${route.path}`)).toEqual(
        expect.arrayContaining([
          'POST /api/v1/auth/mfa/totp/setup',
          'POST /api/v1/admin/users/:id/unlock',
          'POST /api/v1/admin/users/:id/sessions/revoke',
          'POST /api/v1/admin/users/:id/password-reset',
        ]),
      );
    });

    it.each(table)('%s: malformed JSON is 400 MALFORMED_JSON', async (_name, route) => {
      const res = await call(route).set('Content-Type', 'application/json').send('not json');
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('MALFORMED_JSON');
    });

    it.each(table)('%s: an unknown field is 400 VALIDATION_ERROR naming it', async (_name, route) => {
      const res = await call(route).send({ role: 'admin' });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'VALIDATION_ERROR', details: { role: ['property role should not exist'] } });
    });

    it.each(table)('%s: a JSON value that is not an object is 400 VALIDATION_ERROR', async (_name, route) => {
      const res = await call(route).send([{ role: 'admin' }]);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
    });

    it.each(table)('%s: a text/plain body is 415 UNSUPPORTED_MEDIA_TYPE, as on a body route', async (_name, route) => {
      const res = await call(route).set('Content-Type', 'text/plain').send('role=admin');
      expect(res.status).toBe(415);
      expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    });

    it.each(table)('%s: {} and no body are taken', async (_name, route) => {
      for (const [label, res] of [
        ['{}', await call(route).send({})],
        ['no body', await call(route)],
      ] as const) {
        expect([label, res.status === 400 || res.status === 415 || res.status >= 500]).toEqual([label, false]);
      }
    });
  });

  it('still serves after all of that', async () => {
    await t.http.get('/health/ready').expect(200);
  });
});
