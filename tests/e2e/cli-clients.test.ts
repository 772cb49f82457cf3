import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { runAdminCli } from '@interface/cli/admin-cli';
import { startTestApp, type TestApp } from '../support/app';
import { cliInProcess } from '../support/cli-in-process';
import { seedMigratedPgdata } from '../support/pgdata-template';
import { basic, form } from '../support/oauth';
import { createScratchDatabase, describeWhen, REAL_POSTGRES_SELECTED } from '../support/servers';

const cli = cliInProcess;

/** CONTRACT §8: one JSON object on stdout and exit 0; usage on stderr and exit 2 for bad arguments; 1 otherwise. */
describe('CLI create-client, list-clients, delete-client (embedded DATA_DIR)', () => {
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

  it('a failure prints one line on stderr, with LOG_LEVEL unset too (no start-up warning before it), and so does a configuration error', async () => {
    // No LOG_LEVEL and no ENCRYPTION_KEY, as an operator types it: embedded mode warns of the generated key file.
    let stderr = '';
    const io = (extra: Record<string, string>) => ({
      env: { NODE_ENV: 'development', DATA_DIR: dataDir, ...extra },
      stdin: Readable.from([]),
      stdout: { write: () => true },
      stderr: { write: (text: string) => (stderr += text) },
    });
    expect(await runAdminCli(['delete-client', '--id', '00000000-0000-4000-8000-000000000000'], io({}))).toBe(1);
    expect(stderr.split('\n')).toEqual(['No such client.', '']);
    stderr = '';
    expect(await runAdminCli(['list-clients'], io({ PORT: 'eighty', JWT_ALG: 'HS256' }))).toBe(1);
    const lines = stderr.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^Invalid configuration: .*PORT.*; .*JWT_ALG/);
  });

  it('refuses bad arguments with usage on stderr and exit 2, before touching the database', async () => {
    const env = { DATA_DIR: emptyDir };
    for (const args of [['create-client'], ['create-client', '--name', 'x'], ['create-client', '--name', 'x', '--scopes', 'a', '--secret', 's'], ['delete-client'], ['list-clients', 'extra'], ['create-client', '--name'],
      // Bad values too, before the database is opened (they were refused only after it: initdb and migrations first).
      ['create-client', '--name', '', '--scopes', 'a'], ['create-client', '--name', ' ', '--scopes', 'a'], ['create-client', '--name', 'x', '--scopes', 'a "b"']]) {
      const run = await cli(args, env);
      expect({ args, code: run.code, stdout: run.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(run.stderr).toContain('usage: npm run cli');
      expect(run.stderr).toContain('create-client --name N --scopes');
    }
    // rotate-keys and purge-expired take no argument: one given is refused before they act (they once ran anyway).
    for (const args of [['rotate-keys', '--dry-run'], ['purge-expired', '--extra']]) {
      const run = await cli(args, env);
      expect({ args, code: run.code, stdout: run.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(run.stderr).toContain(`${args[0]!} takes no arguments${args[0] === 'rotate-keys' ? ' but --force' : ''}: unexpected ${args[1]!}`);
      expect(run.stderr).toContain('usage: npm run cli');
    }
    // Nothing was done: no signing key was made, no database even opened under DATA_DIR.
    expect(readdirSync(emptyDir)).toEqual([]);
    // `npm run migrate` takes none either.
    const migrate = await cli(['--dry-run'], env, 'migrate');
    expect({ code: migrate.code, stdout: migrate.stdout }).toEqual({ code: 2, stdout: '' });
    expect(migrate.stderr).toContain('usage: npm run migrate');
    expect(readdirSync(emptyDir)).toEqual([]);
  }, 60_000);

  it('logs to stderr, never to stdout: with LOG_LEVEL=info stdout is still exactly one JSON object', async () => {
    const run = await cli(['list-clients'], { ...env, LOG_LEVEL: 'info' });
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(run.stdout)).toEqual({ clients: expect.any(Array) });
    // The log lines went somewhere: stderr (embedded mode warns that ENCRYPTION_KEY is not set).
    expect(run.stderr).toContain('"level":"warn"');
  }, 60_000);

  it('creates a client (secret shown once), lists it without any secret, deletes it once', async () => {
    const created = await cli(['create-client', '--name', 'billing', '--scopes', 'orders:read orders:write'], env);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    const output = JSON.parse(created.stdout) as { client_id: string; client_secret: string; scopes: string[] };
    expect(output).toEqual({ client_id: expect.any(String), client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), scopes: ['orders:read', 'orders:write'] });
    expect(created.stdout.trim().split('\n')).toHaveLength(1);

    const second = JSON.parse((await cli(['create-client', '--name=reports', '--scopes='], env)).stdout) as { client_id: string; scopes: string[] };
    expect(second.scopes).toEqual([]);

    const listed = await cli(['list-clients'], env);
    expect(listed.code).toBe(0);
    const { clients } = JSON.parse(listed.stdout) as { clients: Record<string, unknown>[] };
    expect(clients).toEqual([
      { client_id: output.client_id, name: 'billing', scopes: ['orders:read', 'orders:write'], created_at: expect.any(String), last_used_at: null },
      { client_id: second.client_id, name: 'reports', scopes: [], created_at: expect.any(String), last_used_at: null },
    ]);
    expect(listed.stdout).not.toContain(output.client_secret);
    expect(listed.stdout).not.toMatch(/secret|hmac/i);

    // Upper-cased, as many tools print a UUID: the same client (it was "No such client." until 2026-12-05).
    const deleted = await cli(['delete-client', '--id', output.client_id.toUpperCase()], env);
    expect({ code: deleted.code, out: JSON.parse(deleted.stdout) }).toEqual({ code: 0, out: { deleted: true } });
    const again = await cli(['delete-client', '--id', output.client_id], env);
    expect({ code: again.code, stdout: again.stdout }).toEqual({ code: 1, stdout: '' });
    expect(again.stderr.trim().split('\n')).toEqual(['No such client.']);
    const after = JSON.parse((await cli(['list-clients'], env)).stdout) as { clients: { client_id: string }[] };
    expect(after.clients.map((c) => c.client_id)).toEqual([second.client_id]);
  }, 120_000);

  it('refuses a malformed scope list as a bad argument (exit 2), creating nothing', async () => {
    const run = await cli(['create-client', '--name', 'x', '--scopes', 'a "b"'], env);
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 2, stdout: '' });
    expect(run.stderr).toContain('--scopes');
  }, 60_000);
});

describeWhen(REAL_POSTGRES_SELECTED, 'PostgreSQL')('CLI clients against a running service (shared database)', () => {
  let t: TestApp;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let env: Record<string, string>;
  beforeAll(async () => {
    scratch = await createScratchDatabase();
    const key = randomBytes(32).toString('hex');
    env = { DATABASE_URL: scratch.url, ENCRYPTION_KEY: key, DATA_DIR: mkdtempSync(join(tmpdir(), 'auth-cli-')) };
    t = await startTestApp({ databaseUrl: scratch.url, env: { ENCRYPTION_KEY: key } });
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await scratch?.drop();
    rmSync(env.DATA_DIR!, { recursive: true, force: true });
  });

  it('a client created by the CLI gets tokens; once deleted by the CLI its tokens introspect as inactive', async () => {
    const created = JSON.parse((await cli(['create-client', '--name', 'svc', '--scopes', 'a'], env)).stdout) as { client_id: string; client_secret: string };
    const client = { id: created.client_id, secret: created.client_secret };
    const issued = await t.http.post('/oauth/token').set('Authorization', basic(client)).type('form').send('grant_type=client_credentials').expect(200);
    const introspect = () => t.http.post('/oauth/introspect').set('Authorization', basic(client)).type('form').send(form({ token: issued.body.access_token }));
    expect((await introspect()).body).toMatchObject({ active: true, token_type: 'service', client_id: client.id, scope: 'a' });
    const listed = JSON.parse((await cli(['list-clients'], env)).stdout) as { clients: { client_id: string; last_used_at: string | null }[] };
    expect(listed.clients.find((c) => c.client_id === client.id)?.last_used_at).toEqual(expect.any(String));

    const other = JSON.parse((await cli(['create-client', '--name', 'gateway', '--scopes', ''], env)).stdout) as { client_id: string; client_secret: string };
    expect((await cli(['delete-client', '--id', client.id], env)).code).toBe(0);
    const res = await t.http.post('/oauth/introspect').set('Authorization', basic({ id: other.client_id, secret: other.client_secret })).type('form').send(form({ token: issued.body.access_token })).expect(200);
    expect(res.body).toStrictEqual({ active: false });
  }, 120_000);

  /**
   * Every command used to open the application as the service does, making sure an active key of its JWT_ALG
   * existed: run with another JWT_ALG than the service's (here RS256 against the service's EdDSA), list-clients
   * made an RS256 key active and retired the service's, and within a minute every instance signed with an algorithm
   * no verifier was configured for (outside review, 2026-12-02). Only rotate-keys makes or retires keys now.
   */
  it('a command run with another JWT_ALG leaves the signing keys as they are', async () => {
    const keys = async () => (await t.app.infra.dataSource.query('SELECT kid, alg, status FROM signing_keys ORDER BY kid')) as { kid: string; alg: string; status: string }[];
    const before = await keys();
    expect(before.filter((k) => k.status === 'active').map((k) => k.alg)).toEqual(['EdDSA']);
    for (const args of [['list-clients'], ['create-client', '--name', 'alg-probe', '--scopes', 'a'], ['purge-expired']]) {
      const run = await cli(args, { ...env, JWT_ALG: 'RS256' });
      expect([args[0], run.code]).toEqual([args[0], 0]);
    }
    expect(await keys()).toEqual(before);
    // rotate-keys too: it refuses, saying why, rather than make a key of its own algorithm active.
    const refused = await cli(['rotate-keys'], { ...env, JWT_ALG: 'RS256' });
    expect([refused.code, refused.stdout]).toEqual([1, '']);
    expect(refused.stderr).toContain('rotate-keys: the active signing key is EdDSA but JWT_ALG here is RS256');
    expect(await keys()).toEqual(before);
    // The service goes on signing with its key: a token it issues verifies against its JWKS as before.
    const jwks = (await t.http.get('/.well-known/jwks.json').expect(200)).body as { keys: { kid: string; alg: string }[] };
    expect(jwks.keys.map((k) => k.kid).sort()).toEqual(before.filter((k) => k.status !== 'retired').map((k) => k.kid).sort());
    // With the service's algorithm it rotates: the next key becomes active.
    await publishedLongAgo();
    const rotated = await cli(['rotate-keys'], env);
    expect(rotated.code).toBe(0);
    const after = await keys();
    const nextBefore = before.find((k) => k.status === 'next')!.kid;
    expect(after.find((k) => k.status === 'active')?.kid).toBe(nextBefore);
    expect(after.every((k) => k.alg === 'EdDSA')).toBe(true);
  }, 120_000);

  /** The next key as if published more than the JWKS's cache lifetime (300 s) ago. */
  /** The next key written `seconds` ago: past the JWKS's max-age (300 s) plus the instances' reload lag (60 s) by default. */
  const publishedLongAgo = (seconds = 361) =>
    t.app.infra.dataSource.query(`UPDATE signing_keys SET created_at = now() - make_interval(secs => $1) WHERE status = 'next'`, [seconds]);

  /**
   * A next key published moments ago may be missing from a verifier's cached JWKS (max-age 300): promoted, the tokens
   * it signs would fail there for up to five minutes. Two rotations in a row did that; the README only said to wait.
   */
  it('rotate-keys refuses a next key younger than the JWKS cache lifetime, saying how long to wait; --force rotates anyway', async () => {
    const keys = async () => (await t.app.infra.dataSource.query('SELECT kid, status FROM signing_keys ORDER BY kid')) as { kid: string; status: string }[];
    // Written 330 s ago: past the JWKS's max-age, but an instance may have published it only 60 s later (its reload
    // interval), and a verifier that fetched the key set just before that holds it 300 s more (refused since stop 47).
    await publishedLongAgo(330);
    const lagging = await cli(['rotate-keys'], env);
    expect([lagging.code, lagging.stdout]).toEqual([1, '']);
    expect(lagging.stderr).toMatch(/^rotate-keys: the next signing key was written 330 s ago; the instances publish it within 60 s and verifiers may cache the JWKS for 300 s.*: wait 30 s/);
    await publishedLongAgo();
    const first = await cli(['rotate-keys'], env);
    expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: '' });
    // The new next key was published just now: a second rotation is refused, exit 1, and nothing changes.
    const before = await keys();
    const young = await cli(['rotate-keys'], env);
    expect([young.code, young.stdout]).toEqual([1, '']);
    expect(young.stderr.split('\n')).toEqual([expect.stringMatching(/^rotate-keys: the next signing key was written \d+ s ago; the instances publish it within 60 s and verifiers may cache the JWKS for 300 s.*: wait \d+ s, or run rotate-keys --force/), '']);
    expect(await keys()).toEqual(before);
    // Only --force is taken, and nothing after it.
    const extra = await cli(['rotate-keys', '--force', '--now'], env);
    expect([extra.code, extra.stdout]).toEqual([2, '']);
    expect(extra.stderr).toContain('rotate-keys takes no arguments but --force: unexpected --now');
    expect(await keys()).toEqual(before);
    // --force (an emergency: the next key is compromised too) promotes it at once.
    const forced = await cli(['rotate-keys', '--force'], env);
    expect({ code: forced.code, stderr: forced.stderr }).toEqual({ code: 0, stderr: '' });
    const after = await keys();
    expect(after.find((k) => k.status === 'active')?.kid).toBe(before.find((k) => k.status === 'next')!.kid);
  }, 120_000);
});
