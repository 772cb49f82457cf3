import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { call, MODES, startServiceProcess, type ServiceProcess } from '../support/app';
import { PGBOUNCER, startPgBouncer, type PgBouncer } from '../support/pgbouncer';
import { createScratchDatabase, describeWhen, dropKeyPrefix, REAL_DATABASE_URL, REAL_REDIS_URL, uniqueKeyPrefix } from '../support/servers';

/**
 * Two service processes whose DATABASE_URL is a PgBouncer in transaction pooling mode: every transaction may run
 * on another server connection, so nothing may rely on session state or on statements prepared in an earlier
 * transaction. Needs Debian's pgbouncer (`.ci/run` installs it); with CI=true a missing one fails.
 */
const SELECTED = MODES.includes('servers') && (existsSync(PGBOUNCER) || process.env.CI === 'true');
if (!SELECTED) process.stderr.write('[tests] the PgBouncer case is left out: it needs pgbouncer and the real PostgreSQL and Redis (CI=true runs it)\n');

const PASSWORD = 'correct horse battery staple';
const POOL = 2;

describeWhen(SELECTED, 'pgbouncer and the real PostgreSQL and Redis')('through PgBouncer in transaction mode', () => {
  let bouncer: PgBouncer | undefined;
  const replicas: ServiceProcess[] = [];
  let drop: (() => Promise<void>) | undefined;
  const prefix = uniqueKeyPrefix();

  beforeAll(async () => {
    const scratch = await createScratchDatabase();
    drop = scratch.drop;
    bouncer = await startPgBouncer(REAL_DATABASE_URL, POOL);
    const env = {
      DATABASE_URL: bouncer.through(scratch.url), DB_POOL_SIZE: '5', REDIS_URL: REAL_REDIS_URL, REDIS_KEY_PREFIX: prefix,
      ENCRYPTION_KEY: randomBytes(32).toString('hex'), APP_PUBLIC_URL: 'https://auth.example.com', REQUIRE_EMAIL_VERIFICATION: 'false',
      MIGRATE_ON_START: 'true', LOCKOUT_THRESHOLD: '1000', REFRESH_GRACE_PERIOD: '0',
    };
    replicas.push(await startServiceProcess(env)); // migrates, through PgBouncer too
    replicas.push(await startServiceProcess(env));
  }, 180_000);
  afterAll(async () => {
    for (const replica of replicas) await replica.stop();
    await bouncer?.stop();
    await drop?.();
    await dropKeyPrefix(prefix);
  });

  /** A failure carries what both service processes logged (warnings and errors), to say why. */
  const withLogs = async (body: () => Promise<void>) => {
    try {
      await body();
    } catch (error) {
      const logs = replicas.map((r, i) => `--- instance ${i}:\n${r.output().slice(-4000)}`).join('\n');
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${logs}`);
    }
  };

  it('register, login, refresh rotation and reuse detection, logout and revocation work across both instances', () => withLogs(async () => {
    const [a, b] = replicas as [ServiceProcess, ServiceProcess];
    // Whole responses are matched so that a failure shows the body.
    const registered = await call(a.base, '/api/v1/auth/register', { body: { email: 'pool@example.com', password: PASSWORD } });
    expect(registered).toMatchObject({ status: 201 });
    const login = await call(b.base, '/api/v1/auth/login', { body: { email: 'pool@example.com', password: PASSWORD } });
    expect(login).toMatchObject({ status: 200 });
    const first = login.body.data.tokens as { access_token: string; refresh_token: string };
    const refreshed = await call(a.base, '/api/v1/auth/refresh', { body: { refresh_token: first.refresh_token } });
    expect(refreshed).toMatchObject({ status: 200 });
    const second = refreshed.body.data.tokens as { access_token: string; refresh_token: string };
    // Many short transactions from both instances at once, on POOL server connections.
    const burst = await Promise.all(
      Array.from({ length: 40 }, (_, i) => call(i % 2 ? a.base : b.base, '/api/v1/users/me', { token: second.access_token })),
    );
    expect(burst.filter((r) => r.status !== 200)).toEqual([]);
    // The replaced refresh token again: reuse detected, the session revoked everywhere at once.
    expect(await call(b.base, '/api/v1/auth/refresh', { body: { refresh_token: first.refresh_token } })).toMatchObject({ status: 401 });
    expect(await call(a.base, '/api/v1/auth/validate', { token: second.access_token })).toMatchObject({ status: 401 });
    const again = (await call(a.base, '/api/v1/auth/login', { body: { email: 'pool@example.com', password: PASSWORD } })).body.data.tokens as { access_token: string };
    expect(await call(b.base, '/api/v1/auth/logout', { method: 'POST', token: again.access_token, body: {} })).toMatchObject({ status: 200 });
    expect(await call(a.base, '/api/v1/auth/validate', { token: again.access_token })).toMatchObject({ status: 401 });
  }), 120_000);

  it('the instances\' connections were multiplexed onto PgBouncer\'s few server connections', async () => {
    const pools = (await bouncer!.pools()).filter((p) => p.database.startsWith('auth_test_'));
    expect(pools).toHaveLength(1);
    const servers = Number(pools[0]!.sv_active) + Number(pools[0]!.sv_idle) + Number(pools[0]!.sv_used);
    expect(servers).toBeGreaterThan(0);
    expect(servers).toBeLessThanOrEqual(POOL);
  });
});
