import { buildTestApp, expectErrorEnvelope, type TestApp } from './support/test-app';

const USER_KEYS = [
  'created_at',
  'email',
  'email_verified',
  'first_name',
  'id',
  'last_login_at',
  'last_name',
  'mfa_enabled',
  'roles',
  'status',
  'updated_at',
  'username',
];

function expectSuccess(body: unknown): Record<string, unknown> {
  expect(body).toEqual({
    success: true,
    data: expect.any(Object),
    meta: { request_id: expect.any(String), timestamp: expect.any(String), version: 'v1' },
  });
  return (body as { data: Record<string, unknown> }).data;
}

describe('routes (real use cases over the in-memory adapters)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp();
  });
  const post = (path: string, body: object) => t.http().post(path).set('Content-Type', 'application/json').send(JSON.stringify(body));

  it('register with verification required: 202 {message}, snake_case mapped to the use case input', async () => {
    const res = await post('/api/v1/auth/register', {
      email: 'Ada@Example.com',
      password: 'a long enough passphrase',
      username: 'ada_l',
      first_name: 'Ada',
      last_name: 'Lovelace',
    });
    expect(res.status).toBe(202);
    expect(expectSuccess(res.body)).toEqual({ message: expect.any(String) });
    const [stored] = [...t.db.tables.users.values()];
    expect(stored).toMatchObject({ email: 'ada@example.com', username: 'ada_l', firstName: 'Ada', lastName: 'Lovelace' });
    expect(t.mailer.sent).toHaveLength(1);
    const again = await post('/api/v1/auth/register', { email: 'ada@example.com', password: 'another long passphrase' });
    expect(again.status).toBe(202);
    expect(again.body.data).toEqual(res.body.data);
  });

  it('register without verification: 201 {user, tokens} through the whitelisting presenters', async () => {
    const open = await buildTestApp({ requireEmailVerification: false });
    const res = await open
      .http()
      .post('/api/v1/auth/register')
      .set('Content-Type', 'application/json')
      .send({ email: 'grace@example.com', password: 'a long enough passphrase' });
    expect(res.status).toBe(201);
    const data = expectSuccess(res.body) as { user: Record<string, unknown>; tokens: Record<string, unknown> };
    expect(Object.keys(data.user).sort()).toEqual(USER_KEYS);
    expect(data.user).toMatchObject({ email: 'grace@example.com', username: null, first_name: null, status: 'active', roles: ['user'] });
    expect(JSON.stringify(res.body)).not.toMatch(/\$argon2|passwordHash|password_hash/);
    expect(data.tokens).toEqual({
      access_token: expect.any(String),
      refresh_token: expect.any(String),
      token_type: 'Bearer',
      // The access token's lifetime from issue (TokenPair.accessTokenExpiresIn), not counted from the wall clock,
      // which is years behind the test clock.
      expires_in: 900,
      expires_at: '2030-01-01T00:15:00.000Z',
      refresh_expires_at: '2030-01-31T00:00:00.000Z',
    });
  });

  it('verify: 200 {user} for a mailed token, 400 INVALID_OR_EXPIRED_TOKEN on reuse', async () => {
    await post('/api/v1/auth/register', { email: 'linus@example.com', password: 'a long enough passphrase' });
    const token = /token=([^\s&"]+)/.exec(t.mailer.sent[0]?.text ?? '')?.[1] ?? '';
    const res = await post('/api/v1/auth/verify', { token: decodeURIComponent(token) });
    expect(res.status).toBe(200);
    expect((expectSuccess(res.body)['user'] as Record<string, unknown>)['email_verified']).toBe(true);
    const reused = await post('/api/v1/auth/verify', { token: decodeURIComponent(token) });
    expect(reused.status).toBe(400);
    expectErrorEnvelope(reused.body, 'INVALID_OR_EXPIRED_TOKEN');
  });

  it('verify/resend: the same 202 answer for unknown and pending accounts', async () => {
    await post('/api/v1/auth/register', { email: 'pending@example.com', password: 'a long enough passphrase' });
    const known = await post('/api/v1/auth/verify/resend', { email: 'pending@example.com' });
    const unknown = await post('/api/v1/auth/verify/resend', { email: 'nobody@example.com' });
    expect([known.status, unknown.status]).toEqual([202, 202]);
    expect(known.body.data).toEqual(unknown.body.data);
  });

  it('login by email or by username: 200 {user, tokens}, with the client IP on the session', async () => {
    const { user } = await t.seedLoggedInUser('the right password');
    const byEmail = await post('/api/v1/auth/login', { email: user.email.toUpperCase(), password: 'the right password' });
    expect(byEmail.status).toBe(200);
    const data = expectSuccess(byEmail.body) as { user: { id: string; last_login_at: string }; tokens: { token_type: string } };
    expect(data.user.id).toBe(user.id);
    expect(data.user.last_login_at).toBe('2030-01-01T00:00:00.000Z');
    expect(data.tokens.token_type).toBe('Bearer');
    const byUsername = await t
      .http()
      .post('/api/v1/auth/login')
      .set('Content-Type', 'application/json')
      .set('User-Agent', 'jest-agent')
      .send({ username: user.username, password: 'the right password' });
    expect(byUsername.status).toBe(200);
    const newest = [...t.db.tables.sessions.values()].at(-1);
    expect(newest).toMatchObject({ ip: '127.0.0.1', userAgent: 'jest-agent' });
  });

  it('login with a wrong password: 401 INVALID_CREDENTIALS', async () => {
    const { user } = await t.seedLoggedInUser('the right password');
    const res = await post('/api/v1/auth/login', { email: user.email, password: 'the wrong password' });
    expect(res.status).toBe(401);
    expectErrorEnvelope(res.body, 'INVALID_CREDENTIALS');
  });

  it('refresh: 200 {tokens} for the current token, 401 INVALID_REFRESH_TOKEN for an unknown one', async () => {
    const { tokens } = await t.seedLoggedInUser();
    const ok = await post('/api/v1/auth/refresh', { refresh_token: tokens.refreshToken });
    expect(ok.status).toBe(200);
    expect(Object.keys(expectSuccess(ok.body))).toEqual(['tokens']);
    const bad = await post('/api/v1/auth/refresh', { refresh_token: 'unknown' });
    expect(bad.status).toBe(401);
    expectErrorEnvelope(bad.body, 'INVALID_REFRESH_TOKEN');
  });

  it('validate: 200 {valid, user, claims}', async () => {
    const { user, tokens } = await t.seedLoggedInUser();
    const res = await t.http().get('/api/v1/auth/validate').set('Authorization', `Bearer ${tokens.accessToken}`);
    expect(res.status).toBe(200);
    const data = expectSuccess(res.body) as { valid: boolean; user: { id: string }; claims: Record<string, unknown> };
    expect(data.valid).toBe(true);
    expect(data.user.id).toBe(user.id);
    expect(data.claims).toMatchObject({ sub: user.id, sid: expect.any(String), roles: ['user'], amr: ['pwd'], iss: 'https://auth.example.com', aud: 'api' });
  });

  it('users/me: 200 {user}; after logout with no body the token is revoked', async () => {
    const { user, tokens } = await t.seedLoggedInUser();
    const auth = `Bearer ${tokens.accessToken}`;
    const me = await t.http().get('/api/v1/users/me').set('Authorization', auth);
    expect(me.status).toBe(200);
    expect((expectSuccess(me.body)['user'] as { id: string }).id).toBe(user.id);

    const logout = await t.http().post('/api/v1/auth/logout').set('Authorization', auth);
    expect(logout.status).toBe(200);
    expect(expectSuccess(logout.body)).toEqual({ message: expect.any(String) });

    const after = await t.http().get('/api/v1/users/me').set('Authorization', auth);
    expect(after.status).toBe(401);
    expectErrorEnvelope(after.body, 'INVALID_TOKEN');
  });

  it('logout scope others keeps the current session; an invalid scope is 400', async () => {
    const first = await t.seedLoggedInUser();
    const auth = `Bearer ${first.tokens.accessToken}`;
    const bad = await t.http().post('/api/v1/auth/logout').set('Authorization', auth).set('Content-Type', 'application/json').send({ scope: 'everything' });
    expect(bad.status).toBe(400);
    expect(expectErrorEnvelope(bad.body, 'VALIDATION_ERROR').details).toHaveProperty('scope');
    const others = await t.http().post('/api/v1/auth/logout').set('Authorization', auth).set('Content-Type', 'application/json').send({ scope: 'others' });
    expect(others.status).toBe(200);
    expect((await t.http().get('/api/v1/users/me').set('Authorization', auth)).status).toBe(200);
  });

  it('logout without a token is 401 before any body is read', async () => {
    const res = await t.http().post('/api/v1/auth/logout').set('Content-Type', 'text/plain').send('whatever');
    expect(res.status).toBe(401);
    expectErrorEnvelope(res.body, 'UNAUTHENTICATED');
  });
});
