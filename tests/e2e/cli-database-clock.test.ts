import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Clock } from '@application/ports/clock';
import { runAdminCli } from '@interface/cli/admin-cli';
import { startTestApp, type TestApp } from '../support/app';
import type { CliRun } from '../support/cli';
import { basic, type TestClient } from '../support/oauth';
import { createScratchDatabase, describeWhen, REAL_POSTGRES_SELECTED } from '../support/servers';

/** A host whose clock is `seconds` ahead of the real time (behind when negative). */
const hostAhead = (seconds: number): Clock => ({ now: () => new Date(Date.now() + seconds * 1000) });

/** `npm run cli -- <args>` in process (as tests/support/cli-in-process.ts) on a host whose clock is `clock`. */
async function cliOn(clock: Clock | undefined, args: string[], env: Record<string, string>): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runAdminCli(args, {
    env: { NODE_ENV: 'development', LOG_LEVEL: 'silent', ...env },
    stdin: Readable.from([Buffer.from('')]),
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    ...(clock ? { clock } : {}),
  });
  return { code, stdout, stderr };
}

/**
 * The CLI takes its time from the database, not from the host it runs on (stop 52): the service instances read
 * what a command writes (a client's tokens cut-off, a signing key's times) against their own NTP-synced clocks.
 * Until then a host an hour ahead locked a client out for that hour, and one 20 minutes ahead deleted a retired key
 * whose tokens were still live and promoted a next key published moments ago (an outside review).
 */
describeWhen(REAL_POSTGRES_SELECTED, 'PostgreSQL')('CLI on a host whose clock is off (shared PostgreSQL)', () => {
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
    if (env) rmSync(env.DATA_DIR!, { recursive: true, force: true });
  });

  const dbNow = async (): Promise<number> => ((await t.app.infra.dataSource.query('SELECT now() AS now')) as { now: Date }[])[0]!.now.getTime();

  it('rotate-client-secret --revoke-tokens from a host 1 h ahead: the cut-off is the database\'s now, the new secret gets tokens at once', async () => {
    const created = JSON.parse((await cliOn(undefined, ['create-client', '--name', 'fast-host', '--scopes', 'a'], env)).stdout) as { client_id: string };
    const run = await cliOn(hostAhead(3600), ['rotate-client-secret', '--id', created.client_id, '--revoke-tokens'], env);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    const rotated: TestClient = { id: created.client_id, secret: (JSON.parse(run.stdout) as { client_secret: string }).client_secret };
    // The service (its clock the real one): a token at once, not a 503 with Retry-After for the hour.
    t.clock.set(new Date());
    const res = await t.http.post('/oauth/token').set('Authorization', basic(rotated)).type('form').send('grant_type=client_credentials');
    expect({ status: res.status, retryAfter: res.headers['retry-after'] }).toEqual({ status: 200, retryAfter: undefined });
    // Stored as the database's now, so no later rotation from a right clock is held below it.
    const rows = (await t.app.infra.dataSource.query('SELECT tokens_valid_after FROM clients WHERE id = $1', [rotated.id])) as { tokens_valid_after: Date }[];
    expect(Math.abs(rows[0]!.tokens_valid_after.getTime() - (await dbNow()))).toBeLessThan(5_000);
  }, 120_000);

  type Key = { kid: string; status: string; created_at: Date; retired_at: Date | null };
  const keys = async () => (await t.app.infra.dataSource.query('SELECT kid, status, created_at, retired_at FROM signing_keys ORDER BY created_at')) as Key[];
  /** The next key written 361 s ago: past the JWKS's max-age (300 s) plus the instances' reload lag (60 s). */
  const publishedLongAgo = () => t.app.infra.dataSource.query(`UPDATE signing_keys SET created_at = now() - make_interval(secs => 361) WHERE status = 'next'`);
  const fast = hostAhead(20 * 60);
  /** A rotation on time: the active key retires now (its tokens, ACCESS_TOKEN_TTL 15 min, live on); a fresh next key. Its kid. */
  const rotateOnTime = async (): Promise<string> => {
    const active = (await keys()).find((k) => k.status === 'active')!.kid;
    await publishedLongAgo();
    const run = await cliOn(undefined, ['rotate-keys'], env);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect((await keys()).find((k) => k.kid === active)?.status).toBe('retired');
    return active;
  };

  it('rotate-keys from a host 20 min ahead refuses a next key published moments ago (by the database\'s clock)', async () => {
    await rotateOnTime();
    const before = await keys();
    const early = await cliOn(fast, ['rotate-keys'], env);
    expect({ code: early.code, stdout: early.stdout }).toEqual({ code: 1, stdout: '' });
    expect(early.stderr).toMatch(/^rotate-keys: the next signing key was written [0-9] s ago;/);
    expect(await keys()).toEqual(before);
  }, 120_000);

  it('rotate-keys from a host 20 min ahead keeps a key retired a moment ago, whose tokens still live, and dates what it writes by the database', async () => {
    const retired = await rotateOnTime();
    await publishedLongAgo();
    const second = await cliOn(fast, ['rotate-keys'], env);
    expect({ code: second.code, stderr: second.stderr }).toEqual({ code: 0, stderr: '' });
    expect((JSON.parse(second.stdout) as { published_kids: string[] }).published_kids).toContain(retired);
    const after = await keys();
    expect(after.map((k) => k.kid)).toContain(retired);
    // Activation, retirement and the fresh next key are not 20 minutes in the future.
    const now = await dbNow();
    for (const k of after) {
      expect(k.created_at.getTime()).toBeLessThan(now + 5_000);
      if (k.retired_at) expect(k.retired_at.getTime()).toBeLessThan(now + 5_000);
    }
  }, 120_000);
});
