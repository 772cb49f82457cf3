import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { RotateClientSecret } from '@application/oauth/rotate-client-secret';
import { ROUTES } from '@interface/http/routes';
import { MODES, NO_LIMITS, signUp, startSecureApp, type TestApp } from '../support/app';
import { basic, createClient, deleteClient, form, formEncode, type TestClient } from '../support/oauth';

const FORM = 'application/x-www-form-urlencoded';
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** RFC 6749 §4.4 and §5.2 through HTTP, on PGlite with in-memory caches and on the real servers. */
describe.each(MODES)('POST /oauth/token (%s)', (mode) => {
  let t: TestApp;
  let client: TestClient;
  beforeAll(async () => {
    t = await startSecureApp(mode, NO_LIMITS);
    client = await createClient(t);
  }, 60_000);
  afterAll(async () => t?.stop());

  const token = () => t.http.post('/oauth/token');
  const expectOAuthError = (res: { status: number; body: unknown; headers: Record<string, string> }, status: number, error: string) => {
    expect({ status: res.status, error: (res.body as { error?: string }).error }).toEqual({ status, error });
    expect(res.body).toEqual({ error, error_description: expect.any(String) });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['pragma']).toBe('no-cache');
    if (status === 401) expect(res.headers['www-authenticate']).toMatch(/^Basic realm="auth-service"/);
  };

  it('issues a service token to HTTP Basic authentication with form parameters; no refresh token, never cached', async () => {
    const res = await token().set('Authorization', basic(client)).type(FORM).send('grant_type=client_credentials').expect(200);
    expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 900, scope: 'orders:read orders:write' });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['pragma']).toBe('no-cache');
    expect(res.body.success).toBeUndefined();

    const port = await t.app.listen();
    const jwks = createRemoteJWKSet(new URL(`http://127.0.0.1:${port}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(res.body.access_token, jwks, { issuer: 'https://auth.example.com', audience: 'example-api', typ: 'at+jwt' });
    expect(payload).toMatchObject({ sub: client.id, token_type: 'service', scope: 'orders:read orders:write' });
    expect(Object.keys(payload).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'nbf', 'scope', 'sub', 'token_type']);
  });

  it('accepts client authentication in a form body and in a JSON body', async () => {
    const viaForm = await token().type(FORM).send(form({ grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret })).expect(200);
    expect(decodeJwt(viaForm.body.access_token).sub).toBe(client.id);
    const viaJson = await token().send({ grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret }).expect(200);
    expect(decodeJwt(viaJson.body.access_token).sub).toBe(client.id);
  });

  it('decodes Basic credentials as RFC 6749 §2.3.1 says (form-urlencoded before base64)', async () => {
    const everyCharEncoded = [...client.id].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('');
    const header = `Basic ${Buffer.from(`${everyCharEncoded}:${formEncode(client.secret)}`).toString('base64')}`;
    await token().set('Authorization', header).type(FORM).send('grant_type=client_credentials').expect(200);
  });

  it('grants a requested subset of the allowed scopes, and refuses any other scope with invalid_scope', async () => {
    const subset = await token().set('Authorization', basic(client)).type(FORM).send(form({ grant_type: 'client_credentials', scope: 'orders:read' })).expect(200);
    expect(subset.body.scope).toBe('orders:read');
    expect(decodeJwt(subset.body.access_token).scope).toBe('orders:read');
    for (const scope of ['orders:read admin', 'admin', 'orders:read  "x"', 'bad\\scope']) {
      expectOAuthError(await token().set('Authorization', basic(client)).type(FORM).send(form({ grant_type: 'client_credentials', scope })), 400, 'invalid_scope');
    }
  });

  it('a JSON "scope": null asks for no scope, like an absent one: the client\'s scopes, never a 500', async () => {
    const res = await token().send({ grant_type: 'client_credentials', scope: null, client_id: client.id, client_secret: client.secret }).expect(200);
    expect(res.body.scope).toBe((await token().set('Authorization', basic(client)).type(FORM).send('grant_type=client_credentials').expect(200)).body.scope);
  });

  it('answers both client authentication methods at once with invalid_request', async () => {
    const res = await token().set('Authorization', basic(client)).type(FORM).send(form({ grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret }));
    expectOAuthError(res, 400, 'invalid_request');
    const idOnly = await token().set('Authorization', basic(client)).send({ grant_type: 'client_credentials', client_id: client.id });
    expectOAuthError(idOnly, 400, 'invalid_request');
    // Two Authorization headers: Node keeps the first, a proxy in front may read the other (either order).
    const other = await createClient(t, 'x:y');
    for (const pair of [[client, other], [other, client]]) {
      const twice = await token().set('Authorization', pair.map(basic) as unknown as string).type(FORM).send('grant_type=client_credentials');
      expectOAuthError(twice, 400, 'invalid_request');
    }
    // An empty header counts as one (Node keeps the empty first one, a proxy may read the next; an outside review
    // found these three answered 200 for the body's client).
    const credentials = form({ grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret });
    for (const headers of [['', basic(other)], [basic(other), ''], ['']]) {
      const res = await token().set('Authorization', (headers.length === 1 ? headers[0] : headers) as unknown as string).type(FORM).send(credentials);
      expectOAuthError(res, 400, 'invalid_request');
    }
    expectOAuthError(await token().set('Authorization', ['', basic(client)] as unknown as string).type(FORM).send('grant_type=client_credentials'), 400, 'invalid_request');
  });

  it('answers invalid_client (401, Basic challenge) alike for no, unknown, wrong, incomplete and non-Basic credentials', async () => {
    const other = await createClient(t, 'x');
    const attempts = [
      token().type(FORM).send('grant_type=client_credentials'),
      token().set('Authorization', basic({ id: 'no-such-client', secret: client.secret })).type(FORM).send('grant_type=client_credentials'),
      token().set('Authorization', basic({ id: client.id, secret: other.secret })).type(FORM).send('grant_type=client_credentials'),
      token().set('Authorization', basic({ id: client.id, secret: '' })).type(FORM).send('grant_type=client_credentials'),
      token().type(FORM).send(form({ grant_type: 'client_credentials', client_id: client.id })),
      token().send({ grant_type: 'client_credentials', client_id: client.id, client_secret: 42 }),
      token().set('Authorization', 'Basic not base64!').type(FORM).send('grant_type=client_credentials'),
      token().set('Authorization', '').type(FORM).send('grant_type=client_credentials'),
      token().set('Authorization', `Basic ${Buffer.from('no colon').toString('base64')}`).type(FORM).send('grant_type=client_credentials'),
      token().set('Authorization', `Basic ${Buffer.from('%E0%A4%A:x').toString('base64')}`).type(FORM).send('grant_type=client_credentials'),
    ];
    const bodies = new Set<string>();
    for (const res of await Promise.all(attempts)) {
      expectOAuthError(res, 401, 'invalid_client');
      bodies.add(JSON.stringify(res.body));
    }
    expect(bodies.size).toBe(1);
  });

  it('never takes a user access token as client authentication', async () => {
    const { tokens } = await signUp(t, `user-${mode}@example.com`);
    const res = await token().set('Authorization', `Bearer ${tokens.access_token}`).type(FORM).send('grant_type=client_credentials');
    expectOAuthError(res, 401, 'invalid_client');
  });

  it('refuses a deleted client with invalid_client', async () => {
    const doomed = await createClient(t);
    await token().set('Authorization', basic(doomed)).type(FORM).send('grant_type=client_credentials').expect(200);
    await deleteClient(t, doomed.id);
    expectOAuthError(await token().set('Authorization', basic(doomed)).type(FORM).send('grant_type=client_credentials'), 401, 'invalid_client');
  });

  it('answers unsupported_grant_type for every grant but client_credentials', async () => {
    for (const grant of ['password', 'refresh_token', 'authorization_code', 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'CLIENT_CREDENTIALS']) {
      expectOAuthError(await token().set('Authorization', basic(client)).type(FORM).send(form({ grant_type: grant })), 400, 'unsupported_grant_type');
    }
  });

  it('answers invalid_request for missing, repeated, mistyped or unreadable parameters', async () => {
    const auth = basic(client);
    const bad = [
      token().set('Authorization', auth).type(FORM).send(''),
      token().set('Authorization', auth).type(FORM).send('grant_type='),
      token().set('Authorization', auth).type(FORM).send('grant_type=client_credentials&grant_type=client_credentials'),
      token().set('Authorization', auth).send({ grant_type: 7 }),
      token().set('Authorization', auth).set('Content-Type', 'application/json').send('{"grant_type": '),
      token().set('Authorization', auth).set('Content-Type', 'text/plain').send('grant_type=client_credentials'),
      token().set('Authorization', auth).type(FORM).send(form({ grant_type: 'client_credentials', scope: 'x'.repeat(20_000) })),
    ];
    for (const res of await Promise.all(bad)) expectOAuthError(res, 400, 'invalid_request');
    // A form body that is not UTF-8 is said to be so (not "not valid JSON"). The bytes go as they are: superagent
    // sends what serialize returns, a Buffer included, though its types say string.
    const latin1 = await token().set('Authorization', auth).type(FORM).serialize((body: Buffer) => body as unknown as string).send(Buffer.from('grant_type=client_credentials&scope=\xff', 'latin1'));
    expectOAuthError(latin1, 400, 'invalid_request');
    expect(latin1.body.error_description).toBe('The request body is not valid UTF-8.');
  });

  it('a wrong method or an unknown path under /oauth/ answers in the OAuth error shape, not the envelope', async () => {
    const wrongMethod = await t.http.get('/oauth/token');
    expect({ status: wrongMethod.status, body: wrongMethod.body, allow: wrongMethod.headers['allow'], cache: wrongMethod.headers['cache-control'] }).toEqual({
      status: 405,
      body: { error: 'invalid_request', error_description: 'This method is not allowed on this route.' },
      allow: 'POST, OPTIONS',
      cache: 'no-store',
    });
    const unknown = await t.http.post('/oauth/nope').type(FORM).send('grant_type=client_credentials');
    expect({ status: unknown.status, body: unknown.body }).toEqual({ status: 404, body: { error: 'invalid_request', error_description: 'No route matches this path.' } });
    // Elsewhere the envelope, as before.
    const api = await t.http.get('/api/v1/nope');
    expect([api.status, api.body.success, api.body.error.code]).toEqual([404, false, 'ROUTE_NOT_FOUND']);
  });

  it('ignores parameters it does not know (RFC 6749 §3.1)', async () => {
    await token().set('Authorization', basic(client)).type(FORM).send(form({ grant_type: 'client_credentials', audience: 'x', resource: 'https://api' })).expect(200);
  });

  it('a service token is refused on the user routes (403)', async () => {
    const res = await token().set('Authorization', basic(client)).type(FORM).send('grant_type=client_credentials').expect(200);
    const me = await t.http.get('/api/v1/users/me').set('Authorization', `Bearer ${res.body.access_token}`);
    expect(me.status).toBe(403);
    expect(me.body.error.code).toBe('FORBIDDEN');
    const validate = await t.http.get('/api/v1/auth/validate').set('Authorization', `Bearer ${res.body.access_token}`);
    expect(validate.status).toBe(403);
  });

  it('token requests racing the deletion of their client answer 200 or 401, never 500', async () => {
    for (let round = 0; round < 3; round += 1) {
      const racer = await createClient(t);
      const requests = Array.from({ length: 12 }, () => token().set('Authorization', basic(racer)).type(FORM).send('grant_type=client_credentials'));
      const [responses] = await Promise.all([Promise.all(requests), deleteClient(t, racer.id)]);
      for (const res of responses) expect([200, 401]).toContain(res.status);
      expectOAuthError(await token().set('Authorization', basic(racer)).type(FORM).send('grant_type=client_credentials'), 401, 'invalid_client');
    }
  });

  it('token requests with the old secret racing a --revoke-tokens rotation: none answered 200 introspects active; the new secret at once gets an active one', async () => {
    const rotation = t.app.container.get(RotateClientSecret);
    const active = async (accessToken: string) =>
      (await t.http.post('/oauth/introspect').set('Authorization', basic(client)).type(FORM).send(form({ token: accessToken })).expect(200)).body.active as boolean;
    for (let round = 0; round < 4; round += 1) {
      // The service's clock (the test's) follows the wall clock from round to round and stays still within one: the
      // old secret's tokens signed before the rotation commits are issued in the cut-off's second.
      t.clock.set(new Date());
      const racer = await createClient(t);
      // Request j is sent 2j ms in, the rotation 8 ms in: some are served before it commits, some are signed
      // before it and checked again after it, some authenticate after it.
      const requests = Array.from({ length: 12 }, (_, j) =>
        delay(2 * j).then(() => token().set('Authorization', basic(racer)).type(FORM).send('grant_type=client_credentials')),
      );
      const [responses, rotated] = await Promise.all([Promise.all(requests), delay(8).then(() => rotation.execute({ id: racer.id, revokeTokens: true }))]);
      for (const res of responses) {
        expect([200, 401]).toContain(res.status);
        if (res.status === 200) expect(await active(res.body.access_token as string)).toBe(false);
      }
      // The new secret at once, in the cut-off's second: served once that second is over, and active.
      const fresh = await token().set('Authorization', basic({ id: racer.id, secret: rotated.secret })).type(FORM).send('grant_type=client_credentials').expect(200);
      expect(decodeJwt(fresh.body.access_token as string).iat).toBeGreaterThan(Math.floor(rotated.client.tokensValidAfter!.getTime() / 1000));
      expect(await active(fresh.body.access_token as string)).toBe(true);
    }
  });

  it('publishes RFC 8414 metadata whose endpoints are the routes that answer', async () => {
    const res = await t.http.get('/.well-known/oauth-authorization-server').expect(200);
    expect(res.body).toMatchObject({
      issuer: 'https://auth.example.com',
      token_endpoint: 'https://auth.example.com/oauth/token',
      introspection_endpoint: 'https://auth.example.com/oauth/introspect',
      revocation_endpoint: 'https://auth.example.com/oauth/revoke',
      jwks_uri: 'https://auth.example.com/.well-known/jwks.json',
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    });
    const routes = new Set(ROUTES.map((r) => `${r.method} ${r.path}`));
    const pathOf = (url: string) => new URL(url).pathname;
    for (const endpoint of ['token_endpoint', 'introspection_endpoint', 'revocation_endpoint']) {
      expect(routes).toContain(`POST ${pathOf(res.body[endpoint])}`);
      expect((await t.http.post(pathOf(res.body[endpoint])).type(FORM).send('')).status).toBe(401);
    }
    expect(routes).toContain(`GET ${pathOf(res.body.jwks_uri)}`);
    await t.http.get(pathOf(res.body.jwks_uri)).expect(200);
  });
});

describe.each(MODES)('/oauth rate limits (%s)', (mode) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startSecureApp(mode, { ...NO_LIMITS, RATE_LIMIT_OAUTH_ID: '3/1m', RATE_LIMIT_OAUTH_IP: '12/1m', RATE_LIMIT_INTROSPECT_ID: '4/1m' });
  }, 60_000);
  afterAll(async () => t?.stop());

  it("introspection has quotas of its own: a verifier's load does not spend what the client's token requests need (outside review, 2026-12-04)", async () => {
    const client = await createClient(t);
    const introspect = () => t.http.post('/oauth/introspect').set('Authorization', basic(client)).type(FORM).send('token=not-a-token');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await introspect()).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    const token = await t.http.post('/oauth/token').set('Authorization', basic(client)).type(FORM).send('grant_type=client_credentials');
    expect(token.status).toBe(200);
  });

  it('limits per authenticated client (wrong secrets do not spend its quota) and per IP, with slow_down and Retry-After', async () => {
    const client = await createClient(t);
    const send = (c: TestClient) => t.http.post('/oauth/token').set('Authorization', basic(c)).type(FORM).send('grant_type=client_credentials');
    for (let i = 0; i < 3; i += 1) expect((await send({ id: client.id, secret: 'wrong' })).status).toBe(401);
    for (let i = 0; i < 3; i += 1) expect((await send(client)).status).toBe(200);
    const limited = await send(client);
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ error: 'slow_down', error_description: expect.any(String) });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    const other = await createClient(t);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) statuses.push((await send(other)).status);
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.at(-1)).toBe(429);
    // 12 per IP: 3 + 3 + 1 + 5 requests so far spent it.
    const third = await createClient(t);
    const res = await send(third);
    expect(res.status).toBe(429);
    expect(res.body.error).toBe('slow_down');
  });
});

describe.each(MODES)('/oauth/revoke rate limits (%s)', (mode) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startSecureApp(mode, { ...NO_LIMITS, RATE_LIMIT_OAUTH_ID: '5/5m', RATE_LIMIT_REVOKE_ID: '4/5m', RATE_LIMIT_REVOKE_IP: '100/5m' });
  }, 60_000);
  afterAll(async () => t?.stop());

  it("revocation has quotas of its own: a gateway's revocations at its limit leave its /oauth/token working (a review, 2026-12-06)", async () => {
    const client = await createClient(t);
    const token = () => t.http.post('/oauth/token').set('Authorization', basic(client)).type(FORM).send('grant_type=client_credentials');
    const revoke = (value: string) => t.http.post('/oauth/revoke').set('Authorization', basic(client)).type(FORM).send(form({ token: value }));
    const first = await token();
    expect(first.status).toBe(200);
    // The reviewer's case: one token, then revocations up to the revoke quota (shared, they spent the token quota).
    const revoked: number[] = [];
    for (let i = 0; i < 4; i += 1) revoked.push((await revoke(i === 0 ? first.body.access_token : `not-a-token-${i}`)).status);
    expect(revoked).toEqual([200, 200, 200, 200]);
    // Shared, these revocations had spent the token quota: this was 429 slow_down, Retry-After 300.
    expect((await token()).status).toBe(200);
    const refused = await revoke('not-a-token');
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: 'slow_down', error_description: expect.any(String) });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.headers['ratelimit-policy']).toBe('"revoke-ip";q=100;w=300, "revoke-id";q=4;w=300');
    // The token quota (5) is untouched by the revocations: two tokens so far, three more, then its own limit.
    const issued: number[] = [];
    for (let i = 0; i < 4; i += 1) issued.push((await token()).status);
    expect(issued).toEqual([200, 200, 200, 429]);
  });
});
