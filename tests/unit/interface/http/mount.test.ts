import pino from 'pino';
import request from 'supertest';
import { createHttpApp } from '@interface/http/app';
import { respond } from '@interface/http/envelope';
import { ROUTES } from '@interface/http/routes';
import { defineRoute } from '@interface/http/routing/define-route';
import { API_V1 } from '@interface/http/routing/paths';
import type { RouteDef } from '@interface/http/routing/route';
import { buildTestApp, DEFAULT_CONFIG, expectErrorEnvelope, type TestApp } from './support/test-app';

const BODYLESS = `${API_V1}/__test__/bodyless`;

/** A route that answers with the label the mount put on ctx.state (what the metrics read). */
function probe(path: string, auth: RouteDef['auth'], method: RouteDef['method'] = 'GET'): RouteDef {
  return defineRoute({
    method,
    path,
    summary: 'test',
    tags: ['test'],
    auth,
    responses: { 200: { description: 'ok' } },
    errors: [],
    async handle(ctx) {
      respond(ctx, 200, { route: ctx.state.route ?? null });
    },
  });
}

describe('the route mount', () => {
  let t: TestApp;
  let http: () => request.Agent;
  beforeAll(async () => {
    t = await buildTestApp();
    const routes = [
      probe(`${API_V1}/__test__/items/:id`, 'none'),
      probe(`${API_V1}/__test__/client`, 'client'),
      probe(`${API_V1}/__test__/admin`, { role: 'admin' }),
      probe(`${API_V1}/__test__/member`, { role: 'user' }),
      ...(['POST', 'PUT', 'PATCH', 'GET', 'DELETE'] as const).map((method) => probe(BODYLESS, 'none', method)),
    ];
    const app = createHttpApp({ config: DEFAULT_CONFIG, logger: pino({ level: 'silent' }), resolve: t.kit.resolve, routes });
    http = () => request.agent(app.callback());
  });

  it('labels the request with the route pattern, never the raw path', async () => {
    const res = await http().get(`${API_V1}/__test__/items/8d0c1a52`);
    expect(res.status).toBe(200);
    expect(res.body.data.route).toEqual({ method: 'GET', path: `${API_V1}/__test__/items/:id` });
  });

  it("auth 'client' lets a service client through (HTTP Basic) and refuses everyone else with 401, a user's bearer token included", async () => {
    const { tokens } = await t.seedLoggedInUser();
    const { client, secret } = await t.kit.useCases.CreateClient.execute({ name: 'probe', scopes: '' });
    const wrong = `Basic ${Buffer.from(`${client.id}:not-the-secret`).toString('base64')}`;
    for (const req of [
      http().get(`${API_V1}/__test__/client`),
      http().get(`${API_V1}/__test__/client`).set('Authorization', `Bearer ${tokens.accessToken}`),
      http().get(`${API_V1}/__test__/client`).set('Authorization', wrong),
    ]) {
      const res = await req;
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Basic /);
      expectErrorEnvelope(res.body, 'UNAUTHENTICATED');
    }
    const right = `Basic ${Buffer.from(`${client.id}:${secret}`).toString('base64')}`;
    await http().get(`${API_V1}/__test__/client`).set('Authorization', right).expect(200);
  });

  it('auth {role}: 401 without a token, 403 FORBIDDEN without the role, through with it', async () => {
    const { tokens } = await t.seedLoggedInUser();
    const anonymous = await http().get(`${API_V1}/__test__/admin`);
    expect(anonymous.status).toBe(401);
    expectErrorEnvelope(anonymous.body, 'UNAUTHENTICATED');
    const user = await http().get(`${API_V1}/__test__/admin`).set('Authorization', `Bearer ${tokens.accessToken}`);
    expect(user.status).toBe(403);
    expectErrorEnvelope(user.body, 'FORBIDDEN');
    const member = await http().get(`${API_V1}/__test__/member`).set('Authorization', `Bearer ${tokens.accessToken}`);
    expect(member.status).toBe(200);
  });

  describe('a POST, PUT or PATCH route that declares no body takes nothing or {}, and refuses any other body (an outside review)', () => {
    const send = (method: 'post' | 'put' | 'patch', type: string | null, body?: string) => {
      const req = http()[method](BODYLESS);
      if (type !== null) req.set('Content-Type', type);
      return body === undefined ? req : req.send(body);
    };

    it.each(['post', 'put', 'patch'] as const)('%s: no body, an empty one, {} or whitespace pass', async (method) => {
      for (const [type, body] of [[null, undefined], ['application/json', undefined], ['application/json', ''], ['text/plain', ''], ['application/json', '{}'], ['application/json', ' { } \n']] as const) {
        const res = await send(method, type, body);
        expect([method, type, body, res.status]).toEqual([method, type, body, 200]);
      }
    });

    it.each(['post', 'put', 'patch'] as const)('%s: malformed JSON is 400 MALFORMED_JSON', async (method) => {
      const res = await send(method, 'application/json', 'not json');
      expect(res.status).toBe(400);
      expectErrorEnvelope(res.body, 'MALFORMED_JSON');
    });

    it.each(['post', 'put', 'patch'] as const)('%s: each member sent is named in a 400 VALIDATION_ERROR', async (method) => {
      const res = await send(method, 'application/json', '{"role":"admin","id":1}');
      expect(res.status).toBe(400);
      expect(expectErrorEnvelope(res.body, 'VALIDATION_ERROR').details).toEqual({ role: ['property role should not exist'], id: ['property id should not exist'] });
    });

    it.each([['[]'], ['null'], ['"x"'], ['1']])('a JSON value that is not an object (%s) is 400 VALIDATION_ERROR', async (body) => {
      const res = await send('post', 'application/json', body);
      expect(res.status).toBe(400);
      expectErrorEnvelope(res.body, 'VALIDATION_ERROR');
    });

    it('a non-empty body of another media type is 415 UNSUPPORTED_MEDIA_TYPE, as on a body route; too large is 413', async () => {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
        const res = await send('post', type, 'role=admin');
        expect([type, res.status]).toEqual([type, 415]);
        expectErrorEnvelope(res.body, 'UNSUPPORTED_MEDIA_TYPE');
      }
      const large = await send('post', 'application/json', JSON.stringify({ a: 'x'.repeat(DEFAULT_CONFIG.bodyLimitBytes) }));
      expect(large.status).toBe(413);
    });

    it('GET and DELETE routes without a body do not read one (unchanged)', async () => {
      for (const method of ['get', 'delete'] as const) {
        const res = await http()[method](BODYLESS).set('Content-Type', 'text/plain').send('not json');
        expect([method, res.status]).toEqual([method, 200]);
      }
    });
  });

  it('every table entry has a unique method and path under the API base or a standards path', () => {
    const keys = ROUTES.map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const route of ROUTES) expect(route.path).toMatch(/^(\/api\/v1\/|\/\.well-known\/|\/oauth\/|\/health\/|\/metrics$|\/openapi\.json$|\/docs)/);
  });

  it('fails when the app is built, not on the first request, if a route names a service nobody bound', () => {
    const unbound = defineRoute({ ...probe(`${API_V1}/__test__/unbound`, 'none'), uses: Symbol.for('auth-service.NotBound') });
    expect(() => createHttpApp({ config: DEFAULT_CONFIG, logger: pino({ level: 'silent' }), resolve: t.kit.resolve, routes: [unbound] })).toThrow();
  });
});
