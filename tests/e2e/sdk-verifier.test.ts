import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Koa from 'koa';
import request from 'supertest';
import { createTokenVerifier, type AuthState, type MiddlewareOptions, type TokenVerifierOptions } from '../../src/sdk';
import { MODES, NO_RATE_LIMITS, PASSWORD, signUp, startSecureApp, type Mode, type TestApp } from '../support/app';
import { cliInProcess } from '../support/cli-in-process';
import { describeWhen } from '../support/servers';
import { countingFetch } from '../unit/sdk/support';

/**
 * The SDK's offline verifier against the service's real JWKS and tokens. The verifier's clock follows the
 * service's manual clock (plus `skewMs`), so expiry and the 30 s refetch interval need no waiting.
 */
describe.each<Mode>(MODES)('SDK token verifier against the service (%s)', (mode) => {
  let t: TestApp;
  let jwksUrl: string;
  beforeAll(async () => {
    t = await startSecureApp(mode, NO_RATE_LIMITS);
    jwksUrl = `http://127.0.0.1:${await t.app.listen()}/.well-known/jwks.json`;
  }, 60_000);
  afterAll(async () => t?.stop());

  const verifier = (options: Partial<TokenVerifierOptions> = {}, skewMs = 0) => {
    const fetch = countingFetch();
    const v = createTokenVerifier({
      issuer: 'https://auth.example.com',
      audience: 'example-api',
      jwksUrl,
      fetch,
      now: () => t.clock.now().getTime() + skewMs,
      ...options,
    });
    return { v, jwksFetches: () => fetch.count('/.well-known/jwks.json') };
  };

  it('verifies a user token offline: subject, session, roles', async () => {
    const { user, tokens } = await signUp(t, 'sdk-verify@example.com');
    const { v } = verifier();
    const result = await v.verify(tokens.access_token);
    expect(result).toMatchObject({ subject: user.id, sessionId: expect.any(String), tokenType: 'user', roles: ['user'], scopes: [] });
    expect(result.claims).toMatchObject({ iss: 'https://auth.example.com', aud: 'example-api', amr: ['pwd'] });
  });

  it('forged, expired and wrong-audience tokens are INVALID_TOKEN; no token is UNAUTHENTICATED', async () => {
    const { tokens } = await signUp(t, 'sdk-forged@example.com');
    const [h, p, s] = tokens.access_token.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, roles: ['user', 'admin'] })).toString('base64url')}.${s}`;
    await expect(verifier().v.verify(forged)).rejects.toMatchObject({ code: 'INVALID_TOKEN', status: 401 });
    await expect(verifier({ audience: 'another-api' }).v.verify(tokens.access_token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await expect(verifier({ issuer: 'https://evil.example.com' }).v.verify(tokens.access_token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await expect(verifier({ algorithms: ['RS256'] }).v.verify(tokens.access_token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    const lifetime = ((claims.exp as number) - (claims.iat as number)) * 1000;
    await expect(verifier({}, lifetime + 59_000).v.verify(tokens.access_token)).resolves.toMatchObject({ tokenType: 'user' });
    await expect(verifier({}, lifetime + 61_000).v.verify(tokens.access_token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await expect(verifier().v.verify(undefined)).rejects.toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
  });

  it('key rotation while the service runs: new kids are fetched once, old tokens keep verifying', async () => {
    const before = await signUp(t, 'sdk-rotate@example.com');
    const { v, jwksFetches } = verifier();
    await v.verify(before.tokens.access_token);
    expect(jwksFetches()).toBe(1);
    // What `npm run cli -- rotate-keys` does, twice: the second promotes a key the verifier has never seen.
    await t.app.infra.keys.rotate();
    await t.app.infra.keys.rotate();
    t.clock.advance(31);
    const login = await t.http.post('/api/v1/auth/login').send({ email: 'sdk-rotate@example.com', password: 'correct horse battery staple' }).expect(200);
    const after: string = login.body.data.tokens.access_token;
    const kid = (token: string) => (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
    expect(kid(after)).not.toBe(kid(before.tokens.access_token));
    const burst = await Promise.all(Array.from({ length: 20 }, () => v.verify(after)));
    expect(burst.every((r) => r.tokenType === 'user')).toBe(true);
    expect(jwksFetches()).toBe(2);
    await expect(v.verify(before.tokens.access_token)).resolves.toMatchObject({ tokenType: 'user' });
    expect(jwksFetches()).toBe(2);
  });

  describe('Koa middleware with the service tokens', () => {
    const app = (options: MiddlewareOptions) => {
      const koa = new Koa<AuthState>();
      koa.use(verifier().v.middleware(options));
      koa.use((ctx) => (ctx.body = { subject: ctx.state.auth.subject, scopes: ctx.state.auth.scopes }));
      return request(koa.callback());
    };

    it('a user passes, an admin-only route answers 403 FORBIDDEN in the envelope', async () => {
      const { user, tokens } = await signUp(t, 'sdk-mw@example.com');
      const ok = await app({}).get('/').set('Authorization', `Bearer ${tokens.access_token}`).expect(200);
      expect(ok.body).toEqual({ subject: user.id, scopes: [] });
      const refused = await app({ roles: ['admin'] }).get('/').set('Authorization', `Bearer ${tokens.access_token}`).expect(403);
      expect(refused.body).toMatchObject({ success: false, error: { code: 'FORBIDDEN' }, meta: { version: 'v1' } });
    });

    it('a service token (client credentials claims, signed by the service) passes on its scopes', async () => {
      const { token } = await t.app.infra.tokens.sign({ token_type: 'service', sub: 'billing', scope: 'orders:read invoices:write' });
      const ok = await app({ scopes: ['orders:read'] }).get('/').set('Authorization', `Bearer ${token}`).expect(200);
      expect(ok.body).toEqual({ subject: 'billing', scopes: ['orders:read', 'invoices:write'] });
      await app({ scopes: ['orders:delete'] }).get('/').set('Authorization', `Bearer ${token}`).expect(403);
      await app({ roles: ['user'] }).get('/').set('Authorization', `Bearer ${token}`).expect(403);
    });
  });
});

/**
 * CONTRACT §8 `rotate-keys` run by the CLI as its own process (from the sources; `npm run cli` would build first)
 * on the running service's database, servers mode only (embedded mode: the CLI refuses a DATA_DIR in use). The
 * service picks the change up on its next key reload (every 60 s; called here instead of waiting).
 */
describeWhen(MODES.includes('servers'), 'PostgreSQL and Redis')('SDK verifier across a key rotation by the CLI (servers)', () => {
  let t: TestApp;
  let cliEnv: Record<string, string>;
  let jwksUrl: string;
  beforeAll(async () => {
    const key = randomBytes(32).toString('hex'); // the CLI encrypts the new next key with the service's key
    t = await startSecureApp('servers', { ...NO_RATE_LIMITS, ENCRYPTION_KEY: key });
    jwksUrl = `http://127.0.0.1:${await t.app.listen()}/.well-known/jwks.json`;
    cliEnv = { DATABASE_URL: t.config.databaseUrl!, ENCRYPTION_KEY: key, DATA_DIR: mkdtempSync(join(tmpdir(), 'auth-cli-')) };
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    if (cliEnv) rmSync(cliEnv.DATA_DIR!, { recursive: true, force: true });
  });

  const kid = (token: string) => (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
  const rotateByCli = async (): Promise<string[]> => {
    // --force: the test rotates twice within seconds on purpose (a key the verifier has not fetched yet, refused without it).
    const run = await cliInProcess(['rotate-keys', '--force'], cliEnv);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    const { published_kids: kids } = JSON.parse(run.stdout) as { published_kids: string[] };
    await t.app.infra.keys.reload();
    return kids;
  };
  const login = async (email: string) =>
    (await t.http.post('/api/v1/auth/login').send({ email, password: PASSWORD }).expect(200)).body.data.tokens.access_token as string;

  it('new tokens carry the promoted kid; old and new tokens verify, with exactly one extra JWKS fetch', async () => {
    const email = 'sdk-cli-rotate@example.com';
    const first = (await signUp(t, email)).tokens.access_token;
    const fetch = countingFetch();
    const v = createTokenVerifier({ issuer: 'https://auth.example.com', audience: 'example-api', jwksUrl, fetch, now: () => t.clock.now().getTime() });
    const jwksFetches = () => fetch.count('/.well-known/jwks.json');
    await v.verify(first);
    expect(jwksFetches()).toBe(1);

    // The served JWK Set (precomputed, with an ETag) follows the rotation once the service reloads its keys.
    // (globalThis.fetch: `fetch` here is the verifier's counting one.)
    const served = async () => {
      const response = await globalThis.fetch(jwksUrl);
      return { etag: response.headers.get('etag'), kids: ((await response.json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid).sort() };
    };
    const before = await served();

    // First rotation: the promoted key was pre-published, so the verifier already holds it (no fetch at all).
    const kidsAfterFirst = await rotateByCli();
    const after = await served();
    expect(after.kids).toEqual([...kidsAfterFirst].sort());
    expect(after.etag).not.toBe(before.etag);
    expect((await globalThis.fetch(jwksUrl, { headers: { 'if-none-match': before.etag! } })).status).toBe(200);
    expect((await globalThis.fetch(jwksUrl, { headers: { 'if-none-match': after.etag! } })).status).toBe(304);
    const second = await login(email);
    expect(kid(second)).not.toBe(kid(first));
    expect(kidsAfterFirst).toEqual(expect.arrayContaining([kid(first), kid(second)]));
    await expect(v.verify(second)).resolves.toMatchObject({ tokenType: 'user' });
    expect(jwksFetches()).toBe(1);

    // Second rotation: the key it promotes was published after the verifier's fetch: one refetch (past the 30 s floor).
    await rotateByCli();
    t.clock.advance(31);
    const third = await login(email);
    expect(new Set([kid(first), kid(second), kid(third)]).size).toBe(3);
    const burst = await Promise.all(Array.from({ length: 10 }, () => v.verify(third)));
    expect(burst.every((r) => r.tokenType === 'user')).toBe(true);
    expect(jwksFetches()).toBe(2);
    await expect(v.verify(first)).resolves.toMatchObject({ tokenType: 'user' });
    await expect(v.verify(second)).resolves.toMatchObject({ tokenType: 'user' });
    expect(jwksFetches()).toBe(2);
  }, 120_000);
});
