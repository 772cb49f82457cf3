import { createRemoteJWKSet, jwtVerify } from 'jose';
import { REAL_POSTGRES_SELECTED } from '../support/servers';
import { PASSWORD, signUp, startTestApp, type Backend, type TestApp } from '../support/app';

/** The README walkthrough and the session rules, over HTTP through the whole container, on both databases. */
describe.each<Backend>(REAL_POSTGRES_SELECTED ? ['pglite', 'postgres'] : ['pglite'])('auth flow on %s', (backend) => {
  let t: TestApp | undefined;

  beforeAll(async () => {
    t = await startTestApp({ backend });
  }, 60_000);
  afterAll(async () => t?.stop());

  const app = () => {
    if (!t) throw new Error('app not started');
    return t;
  };

  it('register -> verify link -> login -> me -> refresh -> logout', async () => {
    const { http } = app();
    const reg = await http.post('/api/v1/auth/register').send({ email: 'walk@example.com', password: PASSWORD, first_name: 'Walk' });
    expect(reg.status).toBe(202);
    expect(reg.body).toMatchObject({ success: true, data: { message: expect.any(String) }, meta: { version: 'v1' } });
    const mail = await app().waitForMail('walk@example.com');
    expect(mail.text).toContain('https://app.example.com/verify-email?token=');

    const verify = await http.post('/api/v1/auth/verify').send({ token: app().lastMailedToken('walk@example.com') });
    expect(verify.status).toBe(200);
    expect(verify.body.data.user).toMatchObject({ email: 'walk@example.com', status: 'active', email_verified: true, first_name: 'Walk' });

    const login = await http.post('/api/v1/auth/login').send({ email: 'walk@example.com', password: PASSWORD });
    expect(login.status).toBe(200);
    expect(login.headers['cache-control']).toContain('no-store');
    const { tokens, user } = login.body.data;
    expect(tokens).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
    expect(user).not.toHaveProperty('password_hash');

    const me = await http.get('/api/v1/users/me').set('Authorization', `Bearer ${tokens.access_token}`);
    expect(me.status).toBe(200);
    expect(me.body.data.user.id).toBe(user.id);

    const refreshed = await http.post('/api/v1/auth/refresh').send({ refresh_token: tokens.refresh_token });
    expect(refreshed.status).toBe(200);
    const next = refreshed.body.data.tokens;
    expect(next.refresh_token).not.toBe(tokens.refresh_token);

    const logout = await http.post('/api/v1/auth/logout').set('Authorization', `Bearer ${next.access_token}`).send({});
    expect(logout.status).toBe(200);
    const after = await http.get('/api/v1/users/me').set('Authorization', `Bearer ${next.access_token}`);
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('INVALID_TOKEN');
    const refreshAfter = await http.post('/api/v1/auth/refresh').send({ refresh_token: next.refresh_token });
    expect(refreshAfter.status).toBe(401);
    expect(refreshAfter.body.error.code).toBe('INVALID_REFRESH_TOKEN');
  });

  it('an access token verifies with a third-party verifier given only the JWKS URL', async () => {
    const { tokens } = await signUp(app(), 'jwks@example.com');
    const port = await app().app.listen();
    const jwks = createRemoteJWKSet(new URL(`http://127.0.0.1:${port}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
      issuer: 'https://auth.example.com',
      audience: 'example-api',
      typ: 'at+jwt',
    });
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt', kid: expect.any(String) });
    expect(payload).toMatchObject({ sid: expect.any(String), amr: ['pwd'], roles: ['user'], email_verified: true });
    expect(Object.keys(payload).sort()).toEqual(
      ['amr', 'aud', 'email_verified', 'exp', 'iat', 'iss', 'jti', 'nbf', 'roles', 'sid', 'sub'].sort(),
    );
  });

  it('a replaced refresh token works inside the grace window, and its reuse after it revokes the session', async () => {
    const { http, clock } = app();
    const { tokens } = await signUp(app(), 'reuse@example.com');
    const first = await http.post('/api/v1/auth/refresh').send({ refresh_token: tokens.refresh_token }).expect(200);
    const again = await http.post('/api/v1/auth/refresh').send({ refresh_token: tokens.refresh_token }).expect(200);
    expect(again.body.data.tokens.refresh_token).toBe(first.body.data.tokens.refresh_token);

    clock.advance(11);
    const reuse = await http.post('/api/v1/auth/refresh').send({ refresh_token: tokens.refresh_token });
    expect(reuse.status).toBe(401);
    expect(reuse.body.error.code).toBe('INVALID_REFRESH_TOKEN');
    const newest = await http.post('/api/v1/auth/refresh').send({ refresh_token: first.body.data.tokens.refresh_token });
    expect(newest.status).toBe(401);
    const me = await http.get('/api/v1/users/me').set('Authorization', `Bearer ${first.body.data.tokens.access_token}`);
    expect(me.status).toBe(401);
  });

  it('20 concurrent refreshes with one token leave exactly one live session and the user logged in', async () => {
    const { http } = app();
    const { tokens, user } = await signUp(app(), 'race@example.com');
    const results = await Promise.all(
      Array.from({ length: 20 }, () => http.post('/api/v1/auth/refresh').send({ refresh_token: tokens.refresh_token })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    const issued = new Set(results.map((r) => r.body.data.tokens.refresh_token as string));
    expect(issued.size).toBe(1);
    const live = await app().app.infra.dataSource.query(
      'SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND revoked_at IS NULL',
      [user.id],
    );
    expect(live[0].n).toBe(1);
    const [token] = [...issued];
    await http.post('/api/v1/auth/refresh').send({ refresh_token: token }).expect(200);
  });

  it('concurrent logins of one user succeed (no lock conflict between the user row and new sessions)', async () => {
    const { http } = app();
    await signUp(app(), 'parallel@example.com');
    const login = () => http.post('/api/v1/auth/login').send({ email: 'parallel@example.com', password: PASSWORD });
    // As many at once as the lockout lets be checked at once (LOCKOUT_THRESHOLD, 5), twice (the per-identifier
    // rate limit, 20 logins in 5 minutes, bounds the whole test).
    for (let round = 0; round < 2; round += 1) {
      const logins = await Promise.all(Array.from({ length: 5 }, login));
      expect(logins.map((r) => r.status)).toEqual(Array(5).fill(200));
    }
    // More than that in flight at once: the rest wait a second (the lockout counts attempts in flight).
    const burst = await Promise.all(Array.from({ length: 8 }, login));
    const answers = burst.map((r) => (r.status === 200 ? '200' : `${r.status} ${r.body.error?.code} ${r.headers['retry-after']}`));
    expect(answers.filter((a) => a !== '200' && a !== '429 RATE_LIMITED 1')).toEqual([]);
    expect(burst.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(5);
  });

  it.each([
    ['local', [false, true, true]],
    ['others', [true, false, false]],
    ['global', [false, false, false]],
  ] as const)('logout scope %s: revoked sessions fail at once on validate, me and refresh', async (scope, alive) => {
    const { http } = app();
    const email = `logout-${scope}@example.com`;
    const a = await signUp(app(), email);
    const b = (await http.post('/api/v1/auth/login').send({ email, password: PASSWORD }).expect(200)).body.data;
    const c = (await http.post('/api/v1/auth/login').send({ email, password: PASSWORD }).expect(200)).body.data;
    await http.post('/api/v1/auth/logout').set('Authorization', `Bearer ${a.tokens.access_token}`).send({ scope }).expect(200);
    for (const [i, s] of [a, b, c].entries()) {
      const validate = await http.get('/api/v1/auth/validate').set('Authorization', `Bearer ${s.tokens.access_token}`);
      const me = await http.get('/api/v1/users/me').set('Authorization', `Bearer ${s.tokens.access_token}`);
      expect([validate.status, me.status]).toEqual(alive[i] ? [200, 200] : [401, 401]);
      if (!alive[i]) expect(validate.body.error.code).toBe('INVALID_TOKEN');
      const refresh = await http.post('/api/v1/auth/refresh').send({ refresh_token: s.tokens.refresh_token });
      expect(refresh.status).toBe(alive[i] ? 200 : 401);
    }
  });

  it('the database holds no plain refresh token, verification token or private key', async () => {
    const { http } = app();
    await http.post('/api/v1/auth/register').send({ email: 'rest@example.com', password: PASSWORD }).expect(202);
    await app().waitForMail('rest@example.com');
    const verificationToken = app().lastMailedToken('rest@example.com');
    await http.post('/api/v1/auth/verify').send({ token: verificationToken }).expect(200);
    const login = await http.post('/api/v1/auth/login').send({ email: 'rest@example.com', password: PASSWORD }).expect(200);
    const { refresh_token: refreshToken, access_token: accessToken } = login.body.data.tokens;
    const rotated = await http.post('/api/v1/auth/refresh').send({ refresh_token: refreshToken }).expect(200);
    const ds = app().app.infra.dataSource;
    const dump = JSON.stringify(
      await Promise.all(
        ['users', 'user_credentials', 'sessions', 'refresh_token_history', 'one_time_tokens', 'signing_keys', 'outbox_events', 'email_outbox'].map(
          (table) => ds.query(`SELECT * FROM ${table}`),
        ),
      ),
    );
    for (const secret of [verificationToken, refreshToken, rotated.body.data.tokens.refresh_token, accessToken, PASSWORD]) {
      expect(dump).not.toContain(secret);
    }
    const keys = await ds.query('SELECT public_jwk, sealed_private_key FROM signing_keys');
    for (const key of keys) {
      expect(JSON.stringify(key.public_jwk)).not.toMatch(/"d"/);
      expect(key.sealed_private_key).not.toContain('PRIVATE KEY');
    }
  });
});
