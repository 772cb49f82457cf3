import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NO_RATE_LIMITS, PASSWORD, signUp, startTestApp, type TestApp } from '../support/app';
import { cliInProcess as cli } from '../support/cli-in-process';
import { createScratchDatabase, describeWhen, dropKeyPrefix, REAL_POSTGRES_SELECTED, REAL_REDIS_SELECTED, REAL_REDIS_URL, uniqueKeyPrefix } from '../support/servers';

/**
 * `unlock --email E` (since stop 49): an admin locked out by someone guessing at their address, with no other admin to
 * unlock them, could only wait out the lock (up to LOCKOUT_MAX_DURATION). The command runs against the service's
 * database and Redis (same REDIS_KEY_PREFIX) while the service runs, and the account signs in at once.
 */
describeWhen(REAL_POSTGRES_SELECTED && REAL_REDIS_SELECTED, 'PostgreSQL and Redis')('CLI unlock against a running service', () => {
  let t: TestApp;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let env: Record<string, string>;
  const prefix = uniqueKeyPrefix();
  beforeAll(async () => {
    scratch = await createScratchDatabase();
    const shared = { ENCRYPTION_KEY: randomBytes(32).toString('hex'), REDIS_URL: REAL_REDIS_URL, REDIS_KEY_PREFIX: prefix };
    env = { DATABASE_URL: scratch.url, DATA_DIR: mkdtempSync(join(tmpdir(), 'auth-cli-unlock-')), ...shared };
    t = await startTestApp({ databaseUrl: scratch.url, env: { ...shared, ...NO_RATE_LIMITS } });
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await scratch?.drop();
    await dropKeyPrefix(prefix);
    rmSync(env.DATA_DIR!, { recursive: true, force: true });
  });

  const login = (email: string, password: string) => t.http.post('/api/v1/auth/login').send({ email, password });

  it('lifts the lock of every identifier: the right password signs in at once; audited with no actor; stdout one JSON object', async () => {
    const email = 'locked.admin@example.com';
    const { user } = await signUp(t, email);
    for (let i = 0; i < 5; i += 1) expect((await login(email, 'not the password at all')).status).toBe(401);
    const locked = await login(email, PASSWORD);
    expect([locked.status, locked.body.error.code]).toEqual([429, 'ACCOUNT_LOCKED']);

    const run = await cli(['unlock', '--email', 'Locked.Admin@Example.com'], env);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(run.stdout)).toEqual({ user_id: user.id, email, unlocked: true });
    expect(run.stdout.trim().split('\n')).toHaveLength(1);

    expect((await login(email, PASSWORD)).status).toBe(200);
    const audit = (await t.app.infra.dataSource.query(`SELECT actor_id AS actor, reason FROM audit_events WHERE type = 'account.unlocked' AND subject_id = $1`, [user.id])) as {
      actor: string | null;
      reason: string | null;
    }[];
    expect(audit).toEqual([{ actor: null, reason: 'cli' }]);
  }, 60_000);

  /** A review of stop 49: without REDIS_URL the command said `unlocked` while the service's lock held. */
  it("without the service's REDIS_URL: exit 1 saying why, nothing claimed, the account still locked", async () => {
    const email = 'locked.twice@example.com';
    await signUp(t, email);
    for (let i = 0; i < 5; i += 1) expect((await login(email, 'not the password at all')).status).toBe(401);
    const { REDIS_URL: _url, REDIS_KEY_PREFIX: _prefix, ...withoutRedis } = env;
    const run = await cli(['unlock', '--email', email], withoutRedis);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('needs the service\'s REDIS_URL');
    expect((await login(email, PASSWORD)).status).toBe(429);
  }, 60_000);

  /**
   * Redis reached but refusing the clear (a user whose ACL denies DEL): the clear is owed in the command's memory,
   * which ends with it, so the command must not say `unlocked`. Until stop 50 this path had no test of its own.
   */
  it('Redis refusing the clear: exit 1 saying to run it again, the lock still holds; run again with Redis answering: unlocked', async () => {
    const email = 'locked.thrice@example.com';
    await signUp(t, email);
    for (let i = 0; i < 5; i += 1) expect((await login(email, 'not the password at all')).status).toBe(401);
    const admin = createClient({ url: REAL_REDIS_URL });
    await admin.connect();
    const user = `auth-unlock-nodel-${randomBytes(4).toString('hex')}`;
    const secret = randomBytes(12).toString('hex');
    await admin.sendCommand(['ACL', 'SETUSER', user, 'on', `>${secret}`, '~*', '&*', '+@all', '-del', '-unlink']);
    try {
      const url = new URL(REAL_REDIS_URL);
      url.username = user;
      url.password = secret;
      const refused = await cli(['unlock', '--email', email], { ...env, REDIS_URL: url.toString() });
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe('');
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);
      expect(refused.stderr).toContain('Redis did not take the clear');
      expect((await login(email, PASSWORD)).status).toBe(429);
    } finally {
      await admin.sendCommand(['ACL', 'DELUSER', user]);
      await admin.quit();
    }
    const again = await cli(['unlock', '--email', email], env);
    expect(again.code).toBe(0);
    expect((await login(email, PASSWORD)).status).toBe(200);
  }, 60_000);

  it('an unknown address exits 1 with one line; bad arguments exit 2 with usage, before the database is opened', async () => {
    const unknown = await cli(['unlock', '--email', 'nobody@example.com'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.stdout).toBe('');
    for (const args of [['unlock'], ['unlock', '--email', 'not-an-address'], ['unlock', '--email', 'a@example.com', '--force'], ['unlock', '--email=a@example.com', '--email=b@example.com']]) {
      const bad = await cli(args, { ...env, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('usage: npm run cli');
    }
  }, 60_000);
});
