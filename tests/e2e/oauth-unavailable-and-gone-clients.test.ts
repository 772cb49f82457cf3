import { RotateClientSecret } from '@application/oauth/rotate-client-secret';
import { MODES, NO_LIMITS, startSecureApp, type TestApp } from '../support/app';
import { basic, createClient, deleteClient, form, type TestClient } from '../support/oauth';

const FORM = 'application/x-www-form-urlencoded';
const ME = '/api/v1/users/me';
const VALIDATE = '/api/v1/auth/validate';

/**
 * Two findings of an outside review (stop 52):
 * - /oauth/* answered a 503 in the /api/v1 envelope (`{success: false, error: {code: 'SERVICE_UNAVAILABLE'}}`),
 *   where CONTRACT §1 and §3 say RFC 6749 §5.2's `{error, error_description}`: now `temporarily_unavailable`,
 *   with its Retry-After;
 * - a service token of a deleted client (or one cut off by `rotate-client-secret --revoke-tokens`) got 403
 *   FORBIDDEN ("authentic, lacks the right") on the user routes while /oauth/introspect said `active: false`: now
 *   401 INVALID_TOKEN, on the bearer lane (exact path) and on Koa's route (a query string) alike.
 */
describe.each(MODES)('OAuth 503 shape and service tokens of gone clients (%s)', (mode) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startSecureApp(mode, NO_LIMITS);
  }, 60_000);
  afterAll(async () => t?.stop());

  const serviceToken = async (client: TestClient) =>
    (await t.http.post('/oauth/token').set('Authorization', basic(client)).type(FORM).send('grant_type=client_credentials').expect(200)).body.access_token as string;
  const introspect = async (caller: TestClient, token: string) =>
    (await t.http.post('/oauth/introspect').set('Authorization', basic(caller)).type(FORM).send(form({ token })).expect(200)).body as { active: boolean };

  /** Status, code and challenge of both paths (the lane answers the exact path, Koa the one with a query string). */
  const refusals = async (token: string) => {
    const answers = [];
    for (const path of [ME, `${ME}?via=koa`, VALIDATE, `${VALIDATE}?via=koa`]) {
      const res = await t.http.get(path).set('Authorization', `Bearer ${token}`);
      answers.push([path, res.status, res.body.error?.code, res.headers['www-authenticate']]);
    }
    return answers;
  };
  const everywhere = (status: number, code: string, challenge: string) =>
    [ME, `${ME}?via=koa`, VALIDATE, `${VALIDATE}?via=koa`].map((path) => [path, status, code, challenge]);

  it('POST /oauth/token answers a 503 (a cut-off ahead of this clock) as temporarily_unavailable with Retry-After, no envelope', async () => {
    const client = await createClient(t);
    // Another instance's clock, 10 s ahead, rotated the secret with --revoke-tokens: this one cannot honour a token yet.
    const now = new Date();
    t.clock.set(new Date(now.getTime() + 10_000));
    const rotated = await t.app.container.get(RotateClientSecret).execute({ id: client.id, revokeTokens: true });
    t.clock.set(now);
    const res = await t.http.post('/oauth/token').set('Authorization', basic({ id: client.id, secret: rotated.secret })).type(FORM).send('grant_type=client_credentials');
    expect([res.status, res.body]).toEqual([503, { error: 'temporarily_unavailable', error_description: expect.any(String) }]);
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(10);
    expect([res.headers['cache-control'], res.headers['pragma']]).toEqual(['no-store', 'no-cache']);
  });

  it('/openapi.json declares that 503 in the OAuth shape on the three OAuth routes', async () => {
    const doc = (await t.http.get('/openapi.json').expect(200)).body as {
      paths: Record<string, { post: { responses: Record<string, { content: Record<string, { schema: unknown }>; headers?: Record<string, unknown> }> } }>;
      components: { schemas: Record<string, { properties: { error: { enum: string[] } } }> };
    };
    for (const path of ['/oauth/token', '/oauth/introspect', '/oauth/revoke']) {
      expect([path, doc.paths[path]!.post.responses['503']!.content['application/json']!.schema]).toEqual([path, { $ref: '#/components/schemas/OAuthError' }]);
      // Retry-After documented on the OAuth-shaped 503 and 429, as on the envelope's (a review of stop 52: it was dropped);
      // the route's RateLimit headers too, sent on every answer of an IP-limited route (an outside review, 2026-12-08).
      for (const status of ['503', '429']) {
        expect([path, status, Object.keys(doc.paths[path]!.post.responses[status]!.headers ?? {})]).toEqual([path, status, ['Retry-After', 'RateLimit-Policy', 'RateLimit']]);
      }
    }
    expect(doc.components.schemas['OAuthError']!.properties.error.enum).toContain('temporarily_unavailable');
  });

  it('a live client\'s service token is 403 FORBIDDEN on the user routes; once the client is deleted, 401 INVALID_TOKEN, as introspection says inactive', async () => {
    const verifier = await createClient(t, 'orders:read', 'verifier');
    const client = await createClient(t);
    const token = await serviceToken(client);
    expect(await refusals(token)).toEqual(everywhere(403, 'FORBIDDEN', 'Bearer error="insufficient_scope"'));
    await deleteClient(t, client.id);
    expect(await introspect(verifier, token)).toEqual({ active: false });
    expect(await refusals(token)).toEqual(everywhere(401, 'INVALID_TOKEN', 'Bearer error="invalid_token"'));
  });

  it('a service token cut off by a --revoke-tokens rotation is 401 INVALID_TOKEN; the new secret\'s token is 403 FORBIDDEN', async () => {
    const verifier = await createClient(t, 'orders:read', 'verifier');
    const client = await createClient(t);
    t.clock.set(new Date());
    const old = await serviceToken(client);
    const rotated = await t.app.container.get(RotateClientSecret).execute({ id: client.id, revokeTokens: true });
    expect(await introspect(verifier, old)).toEqual({ active: false });
    expect(await refusals(old)).toEqual(everywhere(401, 'INVALID_TOKEN', 'Bearer error="invalid_token"'));
    const fresh = await serviceToken({ id: client.id, secret: rotated.secret });
    expect(await introspect(verifier, fresh)).toMatchObject({ active: true });
    expect(await refusals(fresh)).toEqual(everywhere(403, 'FORBIDDEN', 'Bearer error="insufficient_scope"'));
  });
});
