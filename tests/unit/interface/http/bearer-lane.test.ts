import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { ValidateAccessToken } from '@application/session/validate-access-token';
import { bearerLane } from '@interface/http/bearer-lane';
import { securityHeaderValues } from '@interface/http/middleware/security';
import { ROUTES } from '@interface/http/routes';
import type { RequestHandler } from '@interface/http/lane';
import { CLIENT, PASSWORD } from '../../application/support/test-kit';
import { buildTestApp, type TestApp } from './support/test-app';

const VALIDATE = '/api/v1/auth/validate';
const ME = '/api/v1/users/me';

/** The answer without what differs per request by design (the Date header, the envelope's timestamp). */
function comparable(res: request.Response) {
  const headers = { ...(res.headers as Record<string, string>) };
  delete headers['date'];
  const body = { ...res.body, meta: { ...res.body.meta, timestamp: 'T' } };
  return { status: res.status, headers, body };
}

describe('bearer lane: /auth/validate and /users/me in front of Koa answer as the general path does', () => {
  let t: TestApp;
  let access: string;
  beforeEach(async () => {
    t = await buildTestApp();
    access = (await t.seedLoggedInUser()).tokens.accessToken;
  });

  // A query string sends the same request to Koa's router (the lane serves exact paths only).
  const both = async (path: string, headers: Record<string, string>) => {
    const lane = await t.http().get(path).set({ 'X-Request-ID': 'same-id', ...headers });
    const koa = await t.http().get(`${path}?`).set({ 'X-Request-ID': 'same-id', ...headers });
    return { lane: comparable(lane), koa: comparable(koa) };
  };

  it.each([VALIDATE, ME])('%s: the same 200 envelope and the same headers', async (path) => {
    const { lane, koa } = await both(path, { Authorization: `Bearer ${access}` });
    expect(lane.status).toBe(200);
    expect(lane.body.data.user.id).toEqual(expect.any(String));
    expect(lane.headers['cache-control']).toBe('no-store');
    expect(lane).toEqual(koa);
  });

  it.each([
    ['no Authorization header', {}, 'UNAUTHENTICATED'],
    ['a malformed header', { Authorization: 'Basic abc' }, 'UNAUTHENTICATED'],
    ['a token that is not one', { Authorization: 'Bearer not.a.token' }, 'INVALID_TOKEN'],
  ])('%s: the same 401, code and challenge', async (_name, headers, code) => {
    for (const path of [VALIDATE, ME]) {
      const { lane, koa } = await both(path, headers as Record<string, string>);
      expect([lane.status, lane.body.error.code]).toEqual([401, code]);
      expect(lane.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(lane).toEqual(koa);
    }
  });

  it('a logged-out session is refused at once, as on the general path', async () => {
    await t.http().post('/api/v1/auth/logout').set('Authorization', `Bearer ${access}`).send({}).expect(200);
    const { lane, koa } = await both(VALIDATE, { Authorization: `Bearer ${access}` });
    expect([lane.status, lane.body.error.code]).toEqual([401, 'INVALID_TOKEN']);
    expect(lane).toEqual(koa);
  });

  it('validations racing a logout, repeated: 200 or 401 during the burst, never 500; every one sent after it is 401', async () => {
    const served = t.app.callback(); // one handler, as a server has (its renderings are kept across requests)
    const http = () => request(served);
    for (let round = 0; round < 10; round += 1) {
      const auth = { Authorization: `Bearer ${(await t.seedLoggedInUser()).tokens.accessToken}` };
      await http().get(VALIDATE).set(auth).expect(200); // warm: the token and the session are cached now
      const [logout, ...during] = await Promise.all([
        http().post('/api/v1/auth/logout').set(auth).send({}),
        ...Array.from({ length: 20 }, (_, i) => http().get(i % 2 ? VALIDATE : ME).set(auth)),
      ]);
      expect([round, logout.status]).toEqual([round, 200]);
      expect([round, during.filter((r) => r.status !== 200 && r.status !== 401).map((r) => r.status)]).toEqual([round, []]);
      const after = await Promise.all(Array.from({ length: 10 }, (_, i) => http().get(i % 2 ? VALIDATE : ME).set(auth)));
      expect([round, after.map((r) => r.status)]).toEqual([round, after.map(() => 401)]);
    }
  });

  it('reuses a rendering only for the same token and unchanged account: a profile change shows at once', async () => {
    const auth = { Authorization: `Bearer ${access}` };
    const served = t.app.callback(); // one handler, as a server has: its renderings are kept across requests
    const http = () => request(served);
    const first = await http().get(ME).set(auth).expect(200);
    expect((await http().get(ME).set(auth).expect(200)).body.data).toEqual(first.body.data);
    await http().patch(ME).set(auth).send({ first_name: 'Grace' }).expect(200);
    // The first read after the change refills the local cache; the next ones are served from it.
    for (let i = 0; i < 3; i += 1) {
      const lane = comparable(await http().get(ME).set({ 'X-Request-ID': 'same-id', ...auth }));
      const koa = comparable(await http().get(`${ME}?`).set({ 'X-Request-ID': 'same-id', ...auth }));
      expect([i, lane.body.data.user.first_name]).toEqual([i, 'Grace']);
      expect(lane).toEqual(koa);
    }
    // Another token of the same user (a second session): its own claims, not the first token's.
    const other = (await t.kit.signIn({ identifier: first.body.data.user.email, password: PASSWORD, client: CLIENT })).tokens.accessToken;
    const [a, b] = await Promise.all([http().get(VALIDATE).set(auth), http().get(VALIDATE).set({ Authorization: `Bearer ${other}` })]);
    expect(a.body.data.claims.sid).not.toBe(b.body.data.claims.sid);
    expect([a.body.data.claims.jti, b.body.data.claims.jti]).toEqual([expect.any(String), expect.any(String)]);
  });

  it('reads racing a profile change, repeated: every read sent after the change answered shows it', async () => {
    const auth = { Authorization: `Bearer ${access}` };
    const served = t.app.callback();
    const http = () => request(served);
    for (let round = 0; round < 10; round += 1) {
      await http().get(ME).set(auth).expect(200); // warm: the rendering is kept now
      const name = `Round${round}`;
      const [patch, ...during] = await Promise.all([
        http().patch(ME).set(auth).send({ first_name: name }),
        ...Array.from({ length: 20 }, (_, i) => http().get(i % 2 ? VALIDATE : ME).set(auth)),
      ]);
      expect([round, patch.status]).toEqual([round, 200]);
      expect([round, during.filter((r) => r.status !== 200).map((r) => r.status)]).toEqual([round, []]);
      const after = await Promise.all(Array.from({ length: 10 }, (_, i) => http().get(i % 2 ? VALIDATE : ME).set(auth)));
      for (let i = 0; i < 4; i += 1) after.push(await http().get(i % 2 ? VALIDATE : ME).set(auth)); // from the refilled cache
      expect([round, after.map((r) => r.body.data.user.first_name)]).toEqual([round, after.map(() => name)]);
    }
  });

  it('an unexpected failure is a 500 envelope without details, logged with its stack', async () => {
    const validate = t.kit.resolve(ValidateAccessToken);
    const spy = jest.spyOn(validate, 'execute').mockRejectedValueOnce(new Error('connection terminated: db-7 password=hunter2'));
    const res = await t.http().get(VALIDATE).set({ Authorization: `Bearer ${access}`, 'X-Request-ID': 'boom-1' }).expect(500);
    spy.mockRestore();
    expect(res.body.error).toEqual({ code: 'INTERNAL_ERROR', message: 'An unexpected error occurred.' });
    expect(res.text).not.toContain('hunter2');
    const lines = t.logs.filter((line) => line.request_id === 'boom-1');
    expect(lines.map((line) => line.msg)).toEqual(['unhandled error', 'request failed']);
    expect(JSON.stringify(lines[0])).toContain('connection terminated');
  });

  it('records the request-duration metric under the route label and one access-log line', async () => {
    await t.http().get(ME).set({ Authorization: `Bearer ${access}`, 'X-Request-ID': 'me-log' }).expect(200);
    await t.http().get(ME).set('X-Request-ID', 'me-401').expect(401);
    const { values } = await t.deps.metrics!.requestDurations.get();
    const counted = values.filter((v) => v.metricName === 'http_request_duration_seconds_count' && v.labels.route === ME);
    expect(counted.map((v) => `${v.labels.method} ${v.labels.status} ${v.value}`).sort()).toEqual(['GET 200 1', 'GET 401 1']);
    expect(t.logs.filter((line) => line.request_id === 'me-log')).toEqual([
      expect.objectContaining({ msg: 'request completed', method: 'GET', path: ME, status: 200, duration_ms: expect.any(Number) }),
    ]);
  });

  it('a client gone before the answer is logged as the general path logs it (client gone, info), not as completed or failed', async () => {
    const validate = t.kit.resolve(ValidateAccessToken);
    const execute = validate.execute.bind(validate);
    const server = createServer(t.app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      for (const [id, outcome] of [['gone-200', 'answer'], ['gone-503', 'outage']] as const) {
        let release!: () => void;
        const held = new Promise<void>((resolve) => (release = resolve));
        let entered!: () => void;
        const waiting = new Promise<void>((resolve) => (entered = resolve));
        const spy = jest.spyOn(validate, 'execute').mockImplementationOnce(async (input) => {
          entered();
          await held;
          if (outcome === 'outage') throw Object.assign(new Error('cache unreachable'), { code: 'ECONNREFUSED' });
          return execute(input);
        });
        const socket = (await import('node:net')).connect(port, '127.0.0.1', () =>
          socket.write(`GET ${ME} HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer ${access}\r\nX-Request-ID: ${id}\r\n\r\n`),
        );
        socket.on('error', () => undefined);
        await waiting;
        await new Promise<void>((resolve) => socket.destroy().once('close', () => setTimeout(resolve, 20)));
        release();
        await new Promise((resolve) => setTimeout(resolve, 50));
        spy.mockRestore();
        const lines = t.logs.filter((line) => line.request_id === id && line.msg !== 'unhandled error' && line.msg !== 'dependency unreachable');
        expect({ id, lines }).toEqual({ id, lines: [expect.objectContaining({ msg: 'client gone before the answer', client_gone: true, level: 30 })] });
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('bearer lane: what it leaves to Koa', () => {
  async function laneWith(cors: boolean) {
    const t = await buildTestApp();
    const passed: string[] = [];
    const koa: RequestHandler = async (req, res) => {
      passed.push(`${req.method} ${req.url}`);
      res.writeHead(299).end();
    };
    const lane = bearerLane(ROUTES, { resolve: t.kit.resolve, headers: securityHeaderValues(), cors, logger: t.deps.logger }, koa);
    const server = createServer((req, res) => void lane(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { base, passed, close: () => new Promise((resolve) => server.close(resolve)) };
  }

  it('answers GET of the exact paths itself; HEAD, a query string, other paths and methods go on', async () => {
    const l = await laneWith(false);
    try {
      await request(l.base).get(VALIDATE).expect(401);
      await request(l.base).get(ME).expect(401);
      await request(l.base).head(VALIDATE).expect(299);
      await request(l.base).get(`${ME}?x=1`).expect(299);
      await request(l.base).get(`${ME}/sessions`).expect(299);
      await request(l.base).patch(ME).expect(299);
      expect(l.passed).toEqual([`HEAD ${VALIDATE}`, `GET ${ME}?x=1`, `GET ${ME}/sessions`, `PATCH ${ME}`]);
    } finally {
      await l.close();
    }
  });

  it('with CORS on, leaves requests carrying Origin to Koa (CORS answers them) and marks its own Vary: Origin', async () => {
    const l = await laneWith(true);
    try {
      await request(l.base).get(VALIDATE).set('Origin', 'https://app.example.com').expect(299);
      const own = await request(l.base).get(VALIDATE).expect(401);
      expect(own.headers['vary']).toBe('Origin');
      expect(l.passed).toEqual([`GET ${VALIDATE}`]);
    } finally {
      await l.close();
    }
  });
});
