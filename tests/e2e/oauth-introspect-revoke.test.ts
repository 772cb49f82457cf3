import { generateKeyPair, SignJWT } from 'jose';
import { CreateAdmin } from '@application/admin/create-admin';
import { MODES, NO_LIMITS, signUp, startSecureApp, type TestApp } from '../support/app';
import { basic, createClient, deleteClient, form, type TestClient } from '../support/oauth';
import { describeWhen, REAL_POSTGRES_SELECTED } from '../support/servers';

const FORM = 'application/x-www-form-urlencoded';

/** RFC 7662 and RFC 7009 through HTTP, on PGlite with in-memory caches and on the real servers. */
describe.each(MODES)('POST /oauth/introspect and /oauth/revoke (%s)', (mode) => {
  let t: TestApp;
  let caller: TestClient;
  let n = 0;
  beforeAll(async () => {
    t = await startSecureApp(mode, NO_LIMITS);
    caller = await createClient(t, 'introspection', 'gateway');
  }, 60_000);
  afterAll(async () => t?.stop());

  const user = () => signUp(t, `u${(n += 1)}-${mode}@example.com`);
  const introspect = (token: string, as: TestClient = caller) =>
    t.http.post('/oauth/introspect').set('Authorization', basic(as)).type(FORM).send(form({ token }));
  const revoke = (token: string) => t.http.post('/oauth/revoke').set('Authorization', basic(caller)).type(FORM).send(form({ token }));
  const serviceToken = async (client: TestClient) =>
    (await t.http.post('/oauth/token').set('Authorization', basic(client)).type(FORM).send('grant_type=client_credentials').expect(200)).body.access_token as string;
  const expectInactive = async (token: string) => {
    const res = await introspect(token);
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual({ active: false });
    expect(res.headers['cache-control']).toBe('no-store');
  };
  const me = (accessToken: string) => t.http.get('/api/v1/users/me').set('Authorization', `Bearer ${accessToken}`);

  it('describes a live user access token', async () => {
    const { user: account, tokens } = await user();
    const res = await introspect(tokens.access_token).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toStrictEqual({
      active: true,
      token_type: 'user',
      sub: account.id,
      sid: expect.any(String),
      roles: ['user'],
      email_verified: true,
      amr: ['pwd'],
      iss: 'https://auth.example.com',
      aud: 'example-api',
      exp: expect.any(Number),
      iat: expect.any(Number),
      nbf: expect.any(Number),
      jti: expect.any(String),
    });
    expect(res.body.exp - res.body.iat).toBe(900);
  });

  it('describes a live service token, and a JSON request or body authentication works alike', async () => {
    const service = await createClient(t, 'orders:read');
    const access = await serviceToken(service);
    const res = await t.http.post('/oauth/introspect').send({ token: access, client_id: caller.id, client_secret: caller.secret }).expect(200);
    expect(res.body).toMatchObject({ active: true, token_type: 'service', sub: service.id, client_id: service.id, scope: 'orders:read' });
    expect(res.body.sid).toBeUndefined();
  });

  it('answers exactly {"active": false} for garbage, unknown, foreign and expired tokens', async () => {
    const { tokens } = await user();
    const { privateKey } = await generateKeyPair('EdDSA');
    const foreign = await new SignJWT({ sid: 'x', roles: ['admin'], email_verified: true, amr: ['pwd'] })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'foreign' })
      .setIssuer('https://auth.example.com')
      .setAudience('example-api')
      .setSubject('00000000-0000-0000-0000-000000000000')
      .setJti('j')
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime('10m')
      .sign(privateKey);
    for (const token of ['garbage', 'a.b.c', 'x'.repeat(43), 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', foreign, `${tokens.access_token}x`, '\u0000']) {
      await expectInactive(token);
    }
    t.clock.advance(16 * 60);
    await expectInactive(tokens.access_token);
    t.clock.advance(-16 * 60);
  });

  it('a user or service access token expired by 30 s is exactly {"active": false}: the clock leeway is for other verifiers, not for this server (RFC 7662 §4)', async () => {
    const { tokens } = await user();
    const access = await serviceToken(await createClient(t, 'orders:read'));
    const advanced = { seconds: 0 };
    const advance = (seconds: number) => {
      t.clock.advance(seconds);
      advanced.seconds += seconds;
    };
    try {
      // One second before exp both are active still ...
      advance(15 * 60 - 1);
      expect((await introspect(tokens.access_token).expect(200)).body.active).toBe(true);
      expect((await introspect(access).expect(200)).body.active).toBe(true);
      // ... 30 s after it (inside the 60 s leeway of CONTRACT §4) neither is: until a review, both answered active with an exp 30 s ago.
      advance(31);
      await expectInactive(tokens.access_token);
      await expectInactive(access);
    } finally {
      t.clock.advance(-advanced.seconds);
    }
  });

  it('a live refresh token is active (token_type refresh_token) while it is its session current one', async () => {
    const { user: account, tokens } = await user();
    const res = await introspect(tokens.refresh_token).expect(200);
    expect(res.body).toStrictEqual({ active: true, token_type: 'refresh_token', sub: account.id, sid: expect.any(String), exp: expect.any(Number) });
    await t.http.post('/api/v1/auth/refresh').send({ refresh_token: tokens.refresh_token }).expect(200);
    await expectInactive(tokens.refresh_token);
  });

  it('a logout makes the access and refresh tokens inactive at once', async () => {
    const { tokens } = await user();
    expect((await introspect(tokens.access_token)).body.active).toBe(true);
    await t.http.post('/api/v1/auth/logout').set('Authorization', `Bearer ${tokens.access_token}`).send({}).expect(200);
    await expectInactive(tokens.access_token);
    await expectInactive(tokens.refresh_token);
  });

  it("a deleted client's service tokens are inactive", async () => {
    const service = await createClient(t);
    const access = await serviceToken(service);
    expect((await introspect(access)).body.active).toBe(true);
    await deleteClient(t, service.id);
    await expectInactive(access);
  });

  it('authenticates the caller as a client: none, a wrong secret, a deleted client or a user token is invalid_client', async () => {
    const { tokens } = await user();
    const doomed = await createClient(t);
    await deleteClient(t, doomed.id);
    const attempts = [
      t.http.post('/oauth/introspect').type(FORM).send(form({ token: tokens.access_token })),
      introspect(tokens.access_token, { id: caller.id, secret: 'wrong' }),
      introspect(tokens.access_token, doomed),
      t.http.post('/oauth/introspect').set('Authorization', `Bearer ${tokens.access_token}`).type(FORM).send(form({ token: tokens.access_token })),
      t.http.post('/oauth/revoke').set('Authorization', `Bearer ${tokens.access_token}`).type(FORM).send(form({ token: tokens.access_token })),
      t.http.post('/oauth/revoke').type(FORM).send(form({ token: tokens.access_token })),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_client');
      expect(res.headers['www-authenticate']).toMatch(/^Basic /);
    }
    // Nothing was revoked by the refused calls.
    await me(tokens.access_token).expect(200);
  });

  it('introspect and revoke refuse both client authentication methods at once, and a request without token', async () => {
    const both = await t.http.post('/oauth/introspect').set('Authorization', basic(caller)).type(FORM).send(form({ token: 'x', client_id: caller.id, client_secret: caller.secret }));
    expect([both.status, both.body.error]).toEqual([400, 'invalid_request']);
    const none = await t.http.post('/oauth/revoke').set('Authorization', basic(caller)).type(FORM).send('token_type_hint=refresh_token');
    expect([none.status, none.body.error]).toEqual([400, 'invalid_request']);
  });

  it('a token longer than any this service issues is inactive (200 {"active": false}), and revoking it is 200', async () => {
    for (const token of ['a'.repeat(8193), `${'eyJ'.padEnd(9000, 'x')}.a.b`]) {
      await expectInactive(token);
      const res = await revoke(token);
      expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: {} });
    }
  });

  it('a role taken away since the token was signed is gone from the introspection at once; the token stays active', async () => {
    const email = `demoted-${mode}@example.com`;
    const { user: account, tokens } = await signUp(t, email);
    const root = `root-${mode}@example.com`;
    await signUp(t, root);
    await t.app.container.get(CreateAdmin).execute({ email: root, password: 'unused' });
    await t.app.container.get(CreateAdmin).execute({ email, password: 'unused' });
    const adminLogin = await t.http.post('/api/v1/auth/login').send({ email, password: 'correct horse battery staple' }).expect(200);
    const adminToken = adminLogin.body.data.tokens.access_token as string;
    expect((await introspect(adminToken).expect(200)).body.roles).toEqual(['user', 'admin']);
    const rootToken = (await t.http.post('/api/v1/auth/login').send({ email: root, password: 'correct horse battery staple' }).expect(200)).body.data.tokens.access_token;
    await t.http.patch(`/api/v1/admin/users/${account.id}`).set('Authorization', `Bearer ${rootToken}`).send({ roles: ['user'] }).expect(200);
    expect((await introspect(adminToken).expect(200)).body).toMatchObject({ active: true, sub: account.id, roles: ['user'] });
    // Granted since: not in a token signed before (as offline verification sees it); the next token carries it.
    await t.http.patch(`/api/v1/admin/users/${account.id}`).set('Authorization', `Bearer ${rootToken}`).send({ roles: ['user', 'admin'] }).expect(200);
    expect((await introspect(tokens.access_token).expect(200)).body.roles).toEqual(['user']);
  });

  it("the audit entry of a revocation names the service client that asked (actor_id), not the user's address", async () => {
    const { user: account, tokens } = await user();
    await revoke(tokens.refresh_token).expect(200);
    const rows = await t.app.infra.dataSource.query(`SELECT actor_id, reason FROM audit_events WHERE subject_id = $1 AND type = 'session.revoked'`, [account.id]);
    expect(rows).toEqual([{ actor_id: caller.id, reason: 'token_revoked' }]);
    const activity = await t.http.get('/api/v1/users/me/activity').set('Authorization', `Bearer ${(await t.http.post('/api/v1/auth/login').send({ email: `u${n}-${mode}@example.com`, password: 'correct horse battery staple' }).expect(200)).body.data.tokens.access_token}`).expect(200);
    const revoked = activity.body.data.events.find((e: { type: string }) => e.type === 'session.revoked');
    expect(revoked).toMatchObject({ ip: null, user_agent: null });
  });

  it('revocation answers 200 for garbage, unknown and expired tokens', async () => {
    for (const token of ['garbage', 'a.b.c', 'x'.repeat(43), '\u0000']) {
      const res = await revoke(token);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({});
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  it('revoking a refresh token ends its session', async () => {
    const { tokens } = await user();
    await revoke(tokens.refresh_token).expect(200);
    expect((await me(tokens.access_token)).status).toBe(401);
    expect((await t.http.post('/api/v1/auth/refresh').send({ refresh_token: tokens.refresh_token })).status).toBe(401);
    await expectInactive(tokens.access_token);
    await revoke(tokens.refresh_token).expect(200);
  });

  it('revoking an access token ends its session too; the same user\'s other sessions live on', async () => {
    const { tokens } = await user();
    const other = await t.http.post('/api/v1/auth/login').send({ email: `u${n}-${mode}@example.com`, password: 'correct horse battery staple' }).expect(200);
    await revoke(tokens.access_token).expect(200);
    expect((await me(tokens.access_token)).status).toBe(401);
    expect((await t.http.post('/api/v1/auth/refresh').send({ refresh_token: tokens.refresh_token })).status).toBe(401);
    await me(other.body.data.tokens.access_token).expect(200);
  });

  it('revoking a service token changes nothing (stateless; delete the client instead)', async () => {
    const service = await createClient(t);
    const access = await serviceToken(service);
    await revoke(access).expect(200);
    expect((await introspect(access)).body.active).toBe(true);
  });
});

/**
 * Introspecting a refresh token reads its session without a row lock (outside review, 2026-12-02): a client that
 * introspects a user's refresh token over and over must not hold that row against the user's own refreshes, and a
 * transaction holding the row (a refresh, a logout) does not hold up the introspection.
 */
describeWhen(REAL_POSTGRES_SELECTED, 'PostgreSQL')('POST /oauth/introspect of a refresh token takes no row lock (PostgreSQL)', () => {
  let t: TestApp;
  let caller: TestClient;
  beforeAll(async () => {
    t = await startSecureApp('servers', NO_LIMITS);
    caller = await createClient(t, 'introspection', 'gateway');
  }, 60_000);
  afterAll(async () => t?.stop());

  it('answers while another transaction holds the session row, and the answer is the committed state', async () => {
    const { user, tokens } = await signUp(t, 'introspect-lock@example.com');
    const holder = t.app.infra.dataSource.createQueryRunner();
    await holder.connect();
    await holder.startTransaction();
    try {
      const locked = (await holder.query('SELECT id FROM sessions WHERE user_id = $1 FOR UPDATE', [user.id])) as unknown[];
      expect(locked).toHaveLength(1);
      const answer = t.http.post('/oauth/introspect').set('Authorization', basic(caller)).type(FORM).send(form({ token: tokens.refresh_token }));
      let waiting: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([answer.then((res) => res), new Promise<'waited'>((resolve) => (waiting = setTimeout(() => resolve('waited'), 3000)))]);
      clearTimeout(waiting);
      expect(outcome).not.toBe('waited');
      if (outcome !== 'waited') expect(outcome.body).toMatchObject({ active: true, token_type: 'refresh_token', sub: user.id });
    } finally {
      await holder.rollbackTransaction();
      await holder.release();
    }
  });
});
