import Koa from 'koa';
import request from 'supertest';
import { CreateAdmin } from '@application/admin/create-admin';
import { createTokenVerifier, ServiceTokenSource } from '../../src/sdk';
import { MODES, NO_RATE_LIMITS, PASSWORD, signUp, startSecureApp, type Mode, type TestApp } from '../support/app';
import { createClient, deleteClient } from '../support/oauth';
import { countingFetch } from '../unit/sdk/support';

/**
 * The SDK against the service's real OAuth endpoints (the unit suites use a local stand-in peer): client
 * credentials through ServiceTokenSource, and the verifier's online mode through /oauth/introspect, where a
 * logout, a deleted client or a revoked token is refused at once while offline verification still accepts it.
 */
describe.each<Mode>(MODES)('SDK against /oauth/* of the service (%s)', (mode) => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await startSecureApp(mode, NO_RATE_LIMITS);
    base = `http://127.0.0.1:${await t.app.listen()}`;
  }, 60_000);
  afterAll(async () => t?.stop());

  const verifierFor = (client: { id: string; secret: string }) =>
    createTokenVerifier({
      issuer: 'https://auth.example.com',
      audience: 'example-api',
      jwksUrl: `${base}/.well-known/jwks.json`,
      introspection: { url: `${base}/oauth/introspect`, clientId: client.id, clientSecret: client.secret },
      now: () => t.clock.now().getTime(),
    });

  /** Requests /oauth/token answered 200 so far, counted by the service itself (its metrics). */
  async function tokenRequestsAtServer(): Promise<number> {
    const text = await (await fetch(`${base}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('http_request_duration_seconds_count{') && l.includes('route="/oauth/token"') && l.includes('status="200"'));
    return line ? Number(line.split(' ').at(-1)) : 0;
  }

  it('ServiceTokenSource: one request (counted at the server) for 20 concurrent callers, a token the verifier reads, both auth methods', async () => {
    const client = await createClient(t, 'inventory:read inventory:reserve');
    for (const authMethod of ['basic', 'body'] as const) {
      const fetch = countingFetch();
      const before = await tokenRequestsAtServer();
      const source = new ServiceTokenSource({ tokenUrl: `${base}/oauth/token`, clientId: client.id, clientSecret: client.secret, scope: 'inventory:reserve', authMethod, fetch });
      const tokens = await Promise.all(Array.from({ length: 20 }, () => source.getToken()));
      expect(new Set(tokens).size).toBe(1);
      expect(fetch.count('/oauth/token')).toBe(1);
      expect((await tokenRequestsAtServer()) - before).toBe(1);
      const verified = await verifierFor(client).verify(tokens[0]!, { online: true });
      expect(verified).toMatchObject({ subject: client.id, tokenType: 'service', scopes: ['inventory:reserve'] });
    }
  });

  it('ServiceTokenSource: a wrong secret is final (INVALID_CLIENT, one request, no retry)', async () => {
    const client = await createClient(t);
    const fetch = countingFetch();
    const source = new ServiceTokenSource({ tokenUrl: `${base}/oauth/token`, clientId: client.id, clientSecret: `${client.secret}x`, fetch });
    await expect(source.getToken()).rejects.toMatchObject({ code: 'INVALID_CLIENT' });
    expect(fetch.count('/oauth/token')).toBe(1);
  });

  it('online verification refuses a logged-out session at once; offline still accepts it until it expires', async () => {
    const client = await createClient(t);
    const verifier = verifierFor(client);
    const { tokens } = await signUp(t, 'sdk-online@example.com');
    await expect(verifier.verify(tokens.access_token, { online: true })).resolves.toMatchObject({ tokenType: 'user' });
    await t.http.post('/api/v1/auth/logout').set('Authorization', `Bearer ${tokens.access_token}`).send({}).expect(200);
    // A fresh verifier: no cached introspection answer (the cache lives 5 s by design).
    await expect(verifierFor(client).verify(tokens.access_token, { online: true })).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await expect(verifier.verify(tokens.access_token)).resolves.toMatchObject({ tokenType: 'user' });
  });

  it("online verification answers with the roles the account still holds: a demoted admin's token no longer passes roles ['admin']", async () => {
    const client = await createClient(t);
    const adminToken = async (email: string) => {
      const { user } = await signUp(t, email);
      await t.app.container.get(CreateAdmin).execute({ email, password: PASSWORD });
      const login = await t.http.post('/api/v1/auth/login').send({ email, password: PASSWORD }).expect(200);
      return { id: user.id, access: login.body.data.tokens.access_token as string };
    };
    const [demoted, other] = [await adminToken('sdk-demoted@example.com'), await adminToken('sdk-demoter@example.com')];
    const guarded = new Koa().use(verifierFor(client).middleware({ roles: ['admin'], online: true })).use((ctx) => {
      ctx.body = 'ok';
    });
    const server = request(guarded.callback());
    await server.get('/').set('Authorization', `Bearer ${demoted.access}`).expect(200);
    await expect(verifierFor(client).verify(demoted.access, { online: true })).resolves.toMatchObject({ roles: ['user', 'admin'] });
    await t.http.patch(`/api/v1/admin/users/${demoted.id}`).set('Authorization', `Bearer ${other.access}`).send({ roles: ['user'] }).expect(200);
    // Fresh verifiers (an answer is cached 5 s by design); offline, the token still claims the role until it expires.
    await expect(verifierFor(client).verify(demoted.access, { online: true })).resolves.toMatchObject({ roles: ['user'], claims: { roles: ['user'] } });
    await expect(verifierFor(client).verify(demoted.access)).resolves.toMatchObject({ roles: ['user', 'admin'] });
    const refused = request(new Koa().use(verifierFor(client).middleware({ roles: ['admin'], online: true })).callback());
    await refused.get('/').set('Authorization', `Bearer ${demoted.access}`).expect(403);
  });

  it("a deleted client's service tokens stop verifying online; its credentials stop introspecting (AUTH_UNAVAILABLE, fails closed)", async () => {
    const caller = await createClient(t);
    const doomed = await createClient(t, 'orders:read');
    const token = await new ServiceTokenSource({ tokenUrl: `${base}/oauth/token`, clientId: doomed.id, clientSecret: doomed.secret }).getToken();
    await expect(verifierFor(caller).verify(token, { online: true })).resolves.toMatchObject({ tokenType: 'service' });
    await deleteClient(t, doomed.id);
    await expect(verifierFor(caller).verify(token, { online: true })).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    const { tokens } = await signUp(t, 'sdk-deleted-caller@example.com');
    await expect(verifierFor(doomed).verify(tokens.access_token, { online: true })).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE' });
  });
});
