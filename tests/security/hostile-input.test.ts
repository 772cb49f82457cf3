import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PORTS } from '@application/ports/tokens';
import { type TestApp, MODES, NO_LIMITS, startSecureApp } from '../support/app';

const PASSWORD = 'correct horse battery staple';
const SQL = ["' OR '1'='1' --", "'; DROP TABLE users; --", '" OR ""="', "1; SELECT pg_sleep(5)--", "admin'/*", '\\x27 UNION SELECT password_hash FROM credentials --'];

/** Every anonymous body route and its string fields, with a well-formed body to vary one field of. */
const ROUTES: [string, Record<string, string>][] = [
  ['register', { email: 'sqli@example.com', password: PASSWORD, username: 'sqli_user', first_name: 'A', last_name: 'B' }],
  ['login', { email: 'alice@example.com', password: PASSWORD }],
  ['verify', { token: 'x'.repeat(43) }],
  ['verify/resend', { email: 'alice@example.com' }],
  ['refresh', { refresh_token: 'x'.repeat(43) }],
  ['password/reset', { email: 'alice@example.com' }],
  ['password/confirm', { token: 'x'.repeat(43), new_password: 'a fresh and long passphrase' }],
];

describe.each(MODES)('hostile input through HTTP (%s)', (mode) => {
  let t: TestApp;
  let access: string;

  beforeAll(async () => {
    // 64 KiB, so that a 10,000-deep document (20 KB) reaches the parser; bigger bodies still get 413.
    t = await startSecureApp(mode, { ...NO_LIMITS, BODY_LIMIT_BYTES: String(64 * 1024) });
    await t.http.post('/api/v1/auth/register').send({ email: 'alice@example.com', password: PASSWORD, username: 'alice' }).expect(202);
    await t.waitForMail('alice@example.com');
    await t.http.post('/api/v1/auth/verify').send({ token: t.lastMailedToken('alice@example.com') }).expect(200);
    access = (await t.http.post('/api/v1/auth/login').send({ email: 'alice@example.com', password: PASSWORD }).expect(200)).body.data.tokens.access_token;
  }, 60_000);
  afterAll(async () => t?.stop());

  const post = (route: string) => t.http.post(`/api/v1/auth/${route}`);
  const userCount = async () => Number((await t.app.infra.dataSource.query('SELECT count(*)::int AS n FROM users'))[0].n);
  const aliceLogsIn = () => post('login').send({ email: 'alice@example.com', password: PASSWORD }).expect(200);

  it('SQL injection in every string field of every route: a contract answer, never a 500, nothing altered', async () => {
    const before = await userCount();
    for (const [route, body] of ROUTES) {
      for (const field of Object.keys(body)) {
        for (const payload of SQL) {
          const response = await post(route).send({ ...body, [field]: payload });
          expect({ route, field, payload, status: response.status }).toEqual({ route, field, payload, status: expect.any(Number) });
          expect(response.status).toBeLessThan(500);
          if (response.status >= 400) expect(response.body.success).toBe(false);
          expect(JSON.stringify(response.body)).not.toMatch(/syntax error|SELECT|pg_|QueryFailedError|at .*\.ts:/);
        }
      }
    }
    for (const field of ['username', 'first_name', 'last_name']) {
      const response = await t.http.patch('/api/v1/users/me').set('Authorization', `Bearer ${access}`).send({ [field]: SQL[1] });
      expect(response.status).toBeLessThan(500);
    }
    // Names are data: stored and returned verbatim, and the tables are all still there.
    const named = await t.http.patch('/api/v1/users/me').set('Authorization', `Bearer ${access}`).send({ first_name: SQL[1] }).expect(200);
    expect(named.body.data.user.first_name).toBe(SQL[1]);
    expect(await userCount()).toBeGreaterThanOrEqual(before);
    await aliceLogsIn();
  });

  it('operator objects ({"$ne": null} and friends) in every field are refused as the wrong type', async () => {
    for (const [route, body] of ROUTES) {
      for (const field of Object.keys(body)) {
        for (const operator of [{ $ne: null }, { $gt: '' }, { $regex: '.*' }, ['alice@example.com']]) {
          const response = await post(route).send({ ...body, [field]: operator });
          expect({ route, field, status: response.status, code: response.body.error?.code }).toEqual({ route, field, status: 400, code: 'VALIDATION_ERROR' });
        }
      }
    }
  });

  it('duplicate keys are refused, escaped or not', async () => {
    const bodies = [
      `{"email":"alice@example.com","email":"mallory@example.com","password":"${PASSWORD}"}`,
      `{"email":"alice@example.com","\\u0065mail":"mallory@example.com","password":"${PASSWORD}"}`,
      `{"email":"alice@example.com","password":"${PASSWORD}","password":"guess"}`,
    ];
    for (const body of bodies) {
      const response = await post('login').set('Content-Type', 'application/json').send(body);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('VALIDATION_ERROR');
    }
    // Same names in sibling objects or inside strings are not duplicates.
    const fine = await post('login').set('Content-Type', 'application/json').send(`{"email":"alice@example.com","password":"${PASSWORD}"}`);
    expect(fine.status).toBe(200);
  });

  it('a 10 MB body is refused with 413 without being read, with or without Content-Length', async () => {
    const big = JSON.stringify({ email: 'a@example.com', password: 'p'.repeat(10 * 1024 * 1024) });
    const started = Date.now();
    const declared = await post('register').set('Content-Type', 'application/json').send(big);
    expect([declared.status, declared.body.error?.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const server = t.app.http.listen(0, '127.0.0.1');
    try {
      await new Promise((r) => server.once('listening', r));
      const status = await chunked((server.address() as AddressInfo).port, big);
      expect(status).toBe(413);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
    expect(Date.now() - started).toBeLessThan(5000);
    await aliceLogsIn();
  });

  it('10,000-deep nesting (arrays or objects) is refused by depth, without recursion or a crash', async () => {
    for (const nested of [`{"email":${'['.repeat(10_000)}${']'.repeat(10_000)},"password":"x"}`, `{"a":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`]) {
      const answer = await post('login').set('Content-Type', 'application/json').send(nested);
      expect([answer.status, answer.body.error?.code]).toEqual([400, 'VALIDATION_ERROR']);
    }
    await t.http.get('/health/ready').expect(200);
  });

  it('oversized passwords get a fast 400, before any hashing or scoring', async () => {
    const cases: [string, Record<string, string>, string][] = [
      ['register', { email: 'long1@example.com', password: 'p'.repeat(129) }, 'WEAK_PASSWORD'],
      ['register', { email: 'long2@example.com', password: 'p'.repeat(10_000) }, 'VALIDATION_ERROR'],
      ['login', { email: 'alice@example.com', password: 'p'.repeat(10_000) }, 'VALIDATION_ERROR'],
      ['password/confirm', { token: 'x'.repeat(43), new_password: 'p'.repeat(10_000) }, 'VALIDATION_ERROR'],
    ];
    // Whether anything was hashed or scored, asked of the service's own hasher and estimator (the time below alone
    // could not tell a quick hash from none).
    const hasher = t.app.container.get(PORTS.PasswordHasher);
    const estimator = t.app.container.get(PORTS.PasswordStrengthEstimator);
    const spies = [jest.spyOn(hasher, 'hash'), jest.spyOn(hasher, 'verify'), jest.spyOn(hasher, 'verifyDummy'), jest.spyOn(estimator, 'estimate')];
    try {
      for (const [route, body, code] of cases) {
        const started = process.hrtime.bigint();
        const response = await post(route).send(body);
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        expect({ route, status: response.status, code: response.body.error?.code }).toEqual({ route, status: 400, code });
        expect({ route, calls: spies.map((spy) => spy.mock.calls.length) }).toEqual({ route, calls: [0, 0, 0, 0] });
        expect(ms).toBeLessThan(200);
      }
      // The spies see the service's calls: a password of a sane length is hashed (and scored) as ever.
      await post('register').send({ email: 'sane@example.com', password: 'a fresh and long passphrase' }).expect(202);
      expect(spies[0]!.mock.calls.length + spies[2]!.mock.calls.length).toBeGreaterThan(0);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });

  it('mass assignment at register and at profile update is refused and changes nothing', async () => {
    for (const extra of [{ role: 'admin' }, { roles: ['admin'] }, { status: 'active' }, { email_verified: true }, { id: '00000000-0000-4000-8000-000000000001' }, { mfa_enabled: true }, { created_at: '2000-01-01T00:00:00Z' }]) {
      const response = await post('register').send({ email: 'mass@example.com', password: PASSWORD, ...extra });
      expect({ extra, status: response.status, code: response.body.error?.code }).toEqual({ extra, status: 400, code: 'VALIDATION_ERROR' });
      const patch = await t.http.patch('/api/v1/users/me').set('Authorization', `Bearer ${access}`).send({ first_name: 'Alice', ...extra });
      expect({ extra, status: patch.status, code: patch.body.error?.code }).toEqual({ extra, status: 400, code: 'VALIDATION_ERROR' });
    }
    for (const extra of [{ email: 'mallory@example.com' }, { password: 'x' }, { password_hash: 'x' }]) {
      const patch = await t.http.patch('/api/v1/users/me').set('Authorization', `Bearer ${access}`).send({ first_name: 'Alice', ...extra });
      expect(patch.status).toBe(400);
    }
    const protoRaw = `{"first_name":"Alice","__proto__":{"roles":["admin"]}}`;
    const proto = await t.http.patch('/api/v1/users/me').set('Authorization', `Bearer ${access}`).set('Content-Type', 'application/json').send(protoRaw);
    expect(proto.status).toBe(400);
    const me = await t.http.get('/api/v1/users/me').set('Authorization', `Bearer ${access}`).expect(200);
    expect(me.body.data.user).toMatchObject({ email: 'alice@example.com', roles: ['user'], status: 'active' });
    const users = await t.app.infra.dataSource.query(`SELECT count(*)::int AS n FROM users WHERE email = 'mass@example.com'`);
    expect(users[0].n).toBe(0);
  });

  it('a NUL or a lone surrogate in any string (body member, nested, key, query) is a 400 naming the field; nothing is queued', async () => {
    const me = () => t.http.patch('/api/v1/users/me').set('Authorization', `Bearer ${access}`);
    const cases: [string, () => Promise<{ status: number; body: { error?: { code?: string; details?: Record<string, string[]> } } }>, string][] = [
      ['register last_name', () => post('register').send({ email: 'nul@example.com', password: PASSWORD, last_name: 'x\u0000' }), 'last_name'],
      ['register password', () => post('register').send({ email: 'surrogate@example.com', password: `${PASSWORD}\udc00` }), 'password'],
      ['login username', () => post('login').send({ username: 'a\u0000b', password: PASSWORD }), 'username'],
      ['login password', () => post('login').send({ email: 'alice@example.com', password: `${PASSWORD}\ud800` }), 'password'],
      ['profile first_name', () => me().send({ first_name: 'A\u0000' }), 'first_name'],
      ['profile last_name', () => me().send({ last_name: 'x\ud800y' }), 'last_name'],
      ['nested value', () => post('register').send({ email: 'n@example.com', password: PASSWORD, roles: [{ a: 'b\u0000' }] }), 'roles'],
      ['activity cursor', () => t.http.get('/api/v1/users/me/activity?cursor=a%00b').set('Authorization', `Bearer ${access}`), 'cursor'],
    ];
    const queuedCount = async () => Number((await t.app.infra.dataSource.query(`SELECT count(*)::int AS n FROM account_requests`))[0].n);
    const before = await queuedCount();
    for (const [name, send, field] of cases) {
      const response = await send();
      expect({ name, status: response.status, code: response.body.error?.code, details: response.body.error?.details?.[field] }).toEqual({
        name,
        status: 400,
        code: 'VALIDATION_ERROR',
        details: ['must not contain NUL characters or unpaired surrogates'],
      });
    }
    expect(await queuedCount()).toBe(before);
    // A paired surrogate (one code point: an emoji) is text like any other.
    const emoji = await me().send({ last_name: 'Smith \u{1F600}' }).expect(200);
    expect(emoji.body.data.user.last_name).toBe('Smith \u{1F600}');
  });

  it('paths match in their exact case: another case is no route (404), so nothing answers without no-store', async () => {
    for (const path of ['/API/V1/users/me', '/Api/v1/users/me/sessions', '/api/V1/auth/login']) {
      const response = await t.http.get(path).set('Authorization', `Bearer ${access}`);
      expect({ path, status: response.status, code: response.body.error?.code }).toEqual({ path, status: 404, code: 'ROUTE_NOT_FOUND' });
    }
    const login = await t.http.post('/API/v1/auth/login').send({ email: 'alice@example.com', password: PASSWORD });
    expect(login.status).toBe(404);
    expect(JSON.stringify(login.body)).not.toContain('access_token');
  });

  it('an activity cursor that decodes to a date the database cannot read is a 400, not a 500', async () => {
    const forged = Buffer.from(JSON.stringify(['-271821-04-20T00:00:00.000Z', '00000000-0000-4000-8000-000000000000'])).toString('base64url');
    const response = await t.http.get(`/api/v1/users/me/activity?cursor=${forged}`).set('Authorization', `Bearer ${access}`);
    expect({ status: response.status, code: response.body.error?.code }).toEqual({ status: 400, code: 'VALIDATION_ERROR' });
  });
});

/** Streams `body` with Transfer-Encoding: chunked (no Content-Length) and resolves with the status. */
function chunked(port: number, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ port, host: '127.0.0.1', method: 'POST', path: '/api/v1/auth/register', headers: { 'Content-Type': 'application/json' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
    const chunk = 64 * 1024;
    let offset = 0;
    const pump = (): void => {
      while (offset < body.length) {
        const ok = req.write(body.slice(offset, offset + chunk));
        offset += chunk;
        if (!ok) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}
