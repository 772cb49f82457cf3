import { TypeOrmSigningKeyRepository } from '@infrastructure/persistence/typeorm/typeorm-signing-key.repository';
import { SigningKeyManager } from '@infrastructure/security/jose/signing-key-manager';
import { signUp, startTestApp, type TestApp } from '../support/app';
import { basic, createClient, form, type TestClient } from '../support/oauth';

const kidOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;

/**
 * CONTRACT §4: a retired key stays published until every token it signed has expired, whoever retires and prunes
 * it. Found by an outside review (2026-11-30): `ACCESS_TOKEN_TTL=60s cli rotate-keys` pruned by its own 60 s, so a
 * 15-minute token of the service went inactive and 401 at the service's next key reload.
 */
describe('a retired signing key is kept for the TTL of the tokens it signed, not of the process that prunes it', () => {
  let t: TestApp;
  let gateway: TestClient;

  beforeAll(async () => {
    t = await startTestApp(); // ACCESS_TOKEN_TTL 15 min
    gateway = await createClient(t, 'introspection', 'gateway');
  }, 60_000);
  afterAll(async () => t?.stop());

  const validate = (token: string) => t.http.get('/api/v1/auth/validate').set('Authorization', `Bearer ${token}`);
  const introspect = async (token: string) =>
    (await t.http.post('/oauth/introspect').set('Authorization', basic(gateway)).type('application/x-www-form-urlencoded').send(form({ token })).expect(200)).body as { active: boolean };
  const jwksKids = async () => ((await t.http.get('/.well-known/jwks.json').expect(200)).body as { keys: { kid: string }[] }).keys.map((k) => k.kid);
  const storedKids = async () => (await new TypeOrmSigningKeyRepository(t.app.infra.dataSource.manager).list()).map((k) => k.kid);

  it('a CLI with ACCESS_TOKEN_TTL=60s rotating twice leaves a 15-minute token valid until it expires', async () => {
    const { tokens } = await signUp(t, 'retention@example.com');
    const kid = kidOf(tokens.access_token);
    // What `ACCESS_TOKEN_TTL=60s npm run cli -- rotate-keys` builds: the same manager over the same table, at 60 s.
    const cli = new SigningKeyManager(new TypeOrmSigningKeyRepository(t.app.infra.dataSource.manager), t.app.infra.secretBox, t.clock, {
      alg: t.config.jwt.alg,
      accessTokenTtlSeconds: 60,
    });
    await cli.init();
    await cli.rotate(); // retires the key the token was signed with
    t.clock.advance(60 + 60 + 60 + 1); // past the CLI's TTL + skew + reload interval, long before the token's 15 minutes
    await cli.rotate(); // and prunes
    await t.app.infra.keys.reload(); // the service's periodic reload (every 60 s)

    expect(await storedKids()).toContain(kid);
    expect(await jwksKids()).toContain(kid);
    await validate(tokens.access_token).expect(200);
    expect((await introspect(tokens.access_token)).active).toBe(true);

    t.clock.advance(900 - 181 + 60 + 60 - 1); // a second before the token's expiry + skew + reload interval
    await cli.prune();
    await t.app.infra.keys.reload();
    expect(await storedKids()).toContain(kid);
    expect(await jwksKids()).toContain(kid);
    t.clock.advance(2);
    await cli.prune();
    await t.app.infra.keys.reload();
    expect(await storedKids()).not.toContain(kid);
    expect(await jwksKids()).not.toContain(kid);
  });
});
