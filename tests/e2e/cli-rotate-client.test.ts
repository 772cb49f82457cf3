import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { PORTS } from '@application/ports/tokens';
import { startTestApp, type TestApp } from '../support/app';
import { cliInProcess } from '../support/cli-in-process';
import { seedMigratedPgdata } from '../support/pgdata-template';
import { basic, form, type TestClient } from '../support/oauth';
import { createScratchDatabase, describeWhen, REAL_POSTGRES_SELECTED } from '../support/servers';

const cli = cliInProcess;

interface Rotated {
  client_id: string;
  client_secret: string;
  tokens_revoked: boolean;
}

/** `rotate-client-secret --id ID [--revoke-tokens]`, with CONTRACT §8's exit codes. */
describe('CLI rotate-client-secret (embedded DATA_DIR)', () => {
  /** The commands' DATA_DIR, a copy of a migrated cluster (an empty one's first run: tests/e2e/cli-process.test.ts). */
  let dataDir: string;
  let env: Record<string, string>;
  /** Stays empty: refused arguments must not open the database. */
  let emptyDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'auth-cli-'));
    await seedMigratedPgdata(dataDir);
    env = { DATA_DIR: dataDir };
    emptyDir = mkdtempSync(join(tmpdir(), 'auth-cli-'));
  });
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(emptyDir, { recursive: true, force: true });
  });

  it('refuses bad arguments with usage on stderr and exit 2, before touching the database', async () => {
    const env = { DATA_DIR: emptyDir };
    const refusals: [string[], string][] = [
      // The parser's other refusals (twice, a missing value, extras) are tests/unit/interface/cli/client-options.test.ts's.
      [['rotate-client-secret', '--revoke-tokens'], 'rotate-client-secret needs --id'],
      [['rotate-client-secret', '--id', 'a', '--revoke-tokens=yes'], '--revoke-tokens takes no value'],
      [['rotate-client-secret', '--id', 'a', '--secret', 's'], 'unknown option for rotate-client-secret: --secret'],
    ];
    for (const [args, reason] of refusals) {
      const run = await cli(args, env);
      expect({ args, code: run.code, stdout: run.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(run.stderr.split('\n')[0]).toBe(reason);
      expect(run.stderr).toContain('usage: npm run cli');
      expect(run.stderr).toContain('rotate-client-secret --id ID [--revoke-tokens]');
    }
    expect(readdirSync(emptyDir)).toEqual([]);
  }, 120_000);

  it('prints the new secret once, keeps id, name and scopes; a deleted one is NOT_FOUND (exit 1; an unknown id too: the unit tests)', async () => {
    const created = JSON.parse((await cli(['create-client', '--name', 'billing', '--scopes', 'orders:read'], env)).stdout) as { client_id: string; client_secret: string };

    const run = await cli(['rotate-client-secret', '--id', created.client_id], env);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    const rotated = JSON.parse(run.stdout) as Rotated;
    expect(rotated).toStrictEqual({ client_id: created.client_id, client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), tokens_revoked: false });
    expect(rotated.client_secret).not.toBe(created.client_secret);

    const revoking = await cli(['rotate-client-secret', '--revoke-tokens', `--id=${created.client_id}`], env);
    expect(revoking.code).toBe(0);
    const again = JSON.parse(revoking.stdout) as Rotated;
    expect(again).toStrictEqual({ client_id: created.client_id, client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), tokens_revoked: true });
    expect(new Set([created.client_secret, rotated.client_secret, again.client_secret]).size).toBe(3);

    const listed = await cli(['list-clients'], env);
    expect((JSON.parse(listed.stdout) as { clients: unknown[] }).clients).toEqual([
      { client_id: created.client_id, name: 'billing', scopes: ['orders:read'], created_at: expect.any(String), last_used_at: null },
    ]);
    expect(listed.stdout).not.toContain(again.client_secret);

    expect((await cli(['delete-client', '--id', created.client_id], env)).code).toBe(0);
    const deleted = await cli(['rotate-client-secret', '--id', created.client_id, '--revoke-tokens'], env);
    expect({ code: deleted.code, stdout: deleted.stdout, stderr: deleted.stderr }).toEqual({ code: 1, stdout: '', stderr: 'No such client.\n' });
  }, 120_000);
});

describeWhen(REAL_POSTGRES_SELECTED, 'PostgreSQL')('CLI rotate-client-secret against a running service (shared database)', () => {
  let t: TestApp;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let env: Record<string, string>;
  let gateway: TestClient;
  beforeAll(async () => {
    scratch = await createScratchDatabase();
    const key = randomBytes(32).toString('hex');
    env = { DATABASE_URL: scratch.url, ENCRYPTION_KEY: key, DATA_DIR: mkdtempSync(join(tmpdir(), 'auth-cli-')) };
    t = await startTestApp({ databaseUrl: scratch.url, env: { ENCRYPTION_KEY: key } });
    const created = JSON.parse((await cli(['create-client', '--name', 'gateway', '--scopes', ''], env)).stdout) as { client_id: string; client_secret: string };
    gateway = { id: created.client_id, secret: created.client_secret };
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await scratch?.drop();
    rmSync(env.DATA_DIR!, { recursive: true, force: true });
  });

  /** POST /oauth/token at the wall clock's time (the CLI's clock; the test app's is one the test sets). */
  const tokenRequest = (client: TestClient) => {
    t.clock.set(new Date());
    return t.http.post('/oauth/token').set('Authorization', basic(client)).type('form').send('grant_type=client_credentials');
  };
  const token = async (client: TestClient): Promise<string> => (await tokenRequest(client).expect(200)).body.access_token as string;
  const active = async (accessToken: string): Promise<boolean> => {
    t.clock.set(new Date());
    const res = await t.http.post('/oauth/introspect').set('Authorization', basic(gateway)).type('form').send(form({ token: accessToken })).expect(200);
    return res.body.active as boolean;
  };
  const rotate = async (id: string, ...flags: string[]): Promise<TestClient> => {
    const run = await cli(['rotate-client-secret', '--id', id, ...flags], env);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    return { id, secret: (JSON.parse(run.stdout) as Rotated).client_secret };
  };

  it('the old secret gets invalid_client and the new one tokens; old tokens live on unless --revoke-tokens', async () => {
    const created = JSON.parse((await cli(['create-client', '--name', 'svc', '--scopes', 'a'], env)).stdout) as { client_id: string; client_secret: string };
    const original: TestClient = { id: created.client_id, secret: created.client_secret };
    const beforeFirst = await token(original);

    const second = await rotate(original.id);
    const refused = await tokenRequest(original).expect(401);
    expect(refused.body).toMatchObject({ error: 'invalid_client' });
    const ofSecond = await token(second);
    // Without --revoke-tokens: the tokens issued before stay active (until they expire).
    expect(await active(beforeFirst)).toBe(true);
    expect(await active(ofSecond)).toBe(true);

    // At once, no pause for the clock: `ofSecond` was most likely issued in the rotation's own second, which the
    // cut-off refuses as well (a token of the old secret issued then cannot be told from one of the new).
    const third = await rotate(original.id, '--revoke-tokens');
    for (const old of [original, second]) expect((await tokenRequest(old).expect(401)).body).toMatchObject({ error: 'invalid_client' });
    // The new secret at once: the request waits for the cut-off's second to end (the test app's clock moves itself
    // there), so the token is issued in a second after the cut-off and is active.
    const ofThird = await token(third);
    const cutOff = (await t.app.container.get(PORTS.ServiceClientRepository).findById(original.id))?.tokensValidAfter;
    expect(decodeJwt(ofThird).iat).toBeGreaterThan(Math.floor(cutOff!.getTime() / 1000));
    expect({ beforeFirst: await active(beforeFirst), ofSecond: await active(ofSecond), ofThird: await active(ofThird) }).toEqual({
      beforeFirst: false,
      ofSecond: false,
      ofThird: true,
    });
  }, 120_000);
});
