import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importPKCS8, SignJWT, type CryptoKey } from 'jose';
import { SEALED } from '@application/ports/secret-box';
import { signUp, startTestApp, type TestApp } from '../support/app';
import { cliInProcess } from '../support/cli-in-process';
import { basic, createClient, form, type TestClient } from '../support/oauth';
import { createScratchDatabase, describeWhen, REAL_POSTGRES_SELECTED } from '../support/servers';

const cli = cliInProcess;
const kidOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;

/**
 * withdraw-key (an outside review, 2026-12-07): after `rotate-keys --force` a leaked key stays published, and the
 * service keeps accepting whatever its holder mints, until its last token's expiry plus skew plus a reload (17 min by
 * default, up to 24 h). Withdrawn, it is gone from every instance at its next reload.
 */
describe('CLI withdraw-key: arguments', () => {
  let emptyDir: string;
  beforeAll(() => (emptyDir = mkdtempSync(join(tmpdir(), 'auth-cli-'))));
  afterAll(() => rmSync(emptyDir, { recursive: true, force: true }));

  it('refuses bad arguments with usage on stderr and exit 2, before touching the database', async () => {
    for (const args of [['withdraw-key'], ['withdraw-key', '--kid'], ['withdraw-key', '--kid', ''], ['withdraw-key', '--kid='], ['withdraw-key', '--kid', 'a', '--kid', 'b'],
      ['withdraw-key', '--kid', 'a', '--force'], ['withdraw-key', 'abc'], ['withdraw-key', '--kid', 'not a kid'], ['withdraw-key', '--kid', 'x'.repeat(129)]]) {
      const run = await cli(args, { DATA_DIR: emptyDir });
      expect({ args, code: run.code, stdout: run.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(run.stderr).toContain('usage: npm run cli');
      expect(run.stderr).toContain('withdraw-key --kid K');
    }
    expect(readdirSync(emptyDir)).toEqual([]);
  });
});

describeWhen(REAL_POSTGRES_SELECTED, 'PostgreSQL')('CLI withdraw-key against a running service (shared database)', () => {
  let t: TestApp;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let env: Record<string, string>;
  let gateway: TestClient;
  beforeAll(async () => {
    scratch = await createScratchDatabase({ migrated: true });
    const key = randomBytes(32).toString('hex');
    env = { DATABASE_URL: scratch.url, ENCRYPTION_KEY: key, DATA_DIR: mkdtempSync(join(tmpdir(), 'auth-cli-')) };
    t = await startTestApp({ databaseUrl: scratch.url, env: { ENCRYPTION_KEY: key } });
    gateway = await createClient(t, 'introspection', 'gateway');
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await scratch?.drop();
    if (env) rmSync(env.DATA_DIR!, { recursive: true, force: true });
  });

  const keys = async () => (await t.app.infra.dataSource.query('SELECT kid, status FROM signing_keys ORDER BY kid')) as { kid: string; status: string }[];
  const keyAudit = async () =>
    (await t.app.infra.dataSource.query(`SELECT type, reason, actor_id, subject_id FROM audit_events WHERE type LIKE 'signing_key.%' ORDER BY occurred_at`)) as
      { type: string; reason: string; actor_id: string | null; subject_id: string | null }[];
  const validate = (token: string) => t.http.get('/api/v1/auth/validate').set('Authorization', `Bearer ${token}`);
  const introspect = async (token: string) =>
    (await t.http.post('/oauth/introspect').set('Authorization', basic(gateway)).type('application/x-www-form-urlencoded').send(form({ token })).expect(200)).body as { active: boolean };
  const jwksKids = async () => ((await t.http.get('/.well-known/jwks.json').expect(200)).body as { keys: { kid: string }[] }).keys.map((k) => k.kid);

  /** The private key as whoever read the table holds it: kept after the row is gone. */
  async function leak(kid: string): Promise<CryptoKey> {
    const rows = (await t.app.infra.dataSource.query('SELECT sealed_private_key FROM signing_keys WHERE kid = $1', [kid])) as { sealed_private_key: string }[];
    return importPKCS8(t.app.infra.secretBox.open(rows[0]!.sealed_private_key, SEALED.signingKey(kid)), t.config.jwt.alg);
  }

  /** What they mint with it: the user's token with the admin role, dated by the service's clock. */
  async function mint(kid: string, privateKey: CryptoKey, like: string): Promise<string> {
    const { sub, sid } = JSON.parse(Buffer.from(like.split('.')[1]!, 'base64url').toString()) as { sub: string; sid: string };
    const now = Math.floor(t.clock.now().getTime() / 1000);
    return new SignJWT({ sid, roles: ['admin'], email_verified: true, amr: ['pwd'] })
      .setProtectedHeader({ alg: t.config.jwt.alg, typ: 'at+jwt', kid })
      .setIssuer(t.config.jwt.issuer).setAudience(t.config.jwt.audience).setSubject(sub)
      .setIssuedAt(now).setNotBefore(now).setExpirationTime(now + 600).setJti('minted')
      .sign(privateKey);
  }

  it('refuses the active key, the next key and an unknown kid (exit 1, nothing written)', async () => {
    const before = await keys();
    const active = before.find((k) => k.status === 'active')!.kid;
    const next = before.find((k) => k.status === 'next')!.kid;
    const refusals: [string, RegExp][] = [
      [active, /^withdraw-key: \S+ is the active signing key.*run rotate-keys --force first.*then withdraw-key --kid /],
      [next, /^withdraw-key: \S+ is the next signing key.*rotate-keys --force twice retires it/],
      ['Zm9yZ2VkLWtpZA', /^withdraw-key: no signing key Zm9yZ2VkLWtpZA is stored/],
    ];
    for (const [kid, message] of refusals) {
      const run = await cli(['withdraw-key', '--kid', kid], env);
      expect({ kid, code: run.code, stdout: run.stdout }).toEqual({ kid, code: 1, stdout: '' });
      expect(run.stderr.split('\n')).toEqual([expect.stringMatching(message), '']);
    }
    expect(await keys()).toEqual(before);
    expect(await keyAudit()).toEqual([]);
  }, 60_000);

  it('rotate-keys --force, then withdraw-key --kid <old>: after its reload the service refuses the old key\'s tokens, minted or issued, and no longer publishes it', async () => {
    const { tokens } = await signUp(t, 'withdraw@example.com');
    const leaked = kidOf(tokens.access_token);
    const privateKey = await leak(leaked);
    const next = (await keys()).find((k) => k.status === 'next')!.kid;
    const rotated = await cli(['rotate-keys', '--force'], env);
    expect({ code: rotated.code, stderr: rotated.stderr }).toEqual({ code: 0, stderr: '' });
    // Audited in the rotation's transaction (since stop 60): the kids, no actor, no subject.
    const fresh0 = (await keys()).find((k) => k.status === 'next')!.kid;
    expect(await keyAudit()).toEqual([{ type: 'signing_key.rotated', reason: `cli forced promoted=${next} retired=${leaked} next=${fresh0}`, actor_id: null, subject_id: null }]);
    await t.app.infra.keys.reload(); // the service's periodic reload (every 60 s)
    const minted = await mint(leaked, privateKey, tokens.access_token);
    // The gap: retired, the leaked key still verifies what its holder mints, and is still published.
    await validate(minted).expect(200);
    expect(await jwksKids()).toContain(leaked);

    const run = await cli(['withdraw-key', '--kid', leaked], env);
    expect(run).toEqual({ code: 0, stdout: `${JSON.stringify({ kid: leaked, withdrawn: true })}\n`, stderr: '' });
    expect((await keys()).map((k) => k.kid)).not.toContain(leaked);
    expect((await keyAudit()).slice(1)).toEqual([{ type: 'signing_key.withdrawn', reason: `cli kid=${leaked}`, actor_id: null, subject_id: null }]);

    await t.app.infra.keys.reload();
    expect(await jwksKids()).not.toContain(leaked);
    for (const token of [minted, tokens.access_token, await mint(leaked, privateKey, tokens.access_token)]) {
      expect((await validate(token)).status).toBe(401);
      expect(await introspect(token)).toStrictEqual({ active: false });
    }
    // The price is a refresh: the session stands, and its next token is signed by the new key.
    const refreshed = await t.http.post('/api/v1/auth/refresh').send({ refresh_token: tokens.refresh_token }).expect(200);
    const fresh = (refreshed.body as { data: { tokens: { access_token: string } } }).data.tokens.access_token;
    expect(kidOf(fresh)).not.toBe(leaked);
    await validate(fresh).expect(200);
    // Withdrawn already: unknown now.
    const again = await cli(['withdraw-key', '--kid', leaked], env);
    expect([again.code, again.stdout]).toEqual([1, '']);
    expect(await keyAudit()).toHaveLength(2);
  }, 120_000);
});
