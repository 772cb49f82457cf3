import { randomBytes } from 'node:crypto';
import { createScratchDatabase, dropKeyPrefix, REAL_REDIS_URL, uniqueKeyPrefix } from '../support/servers';
import { MODES, call, startServiceProcess, type ServiceProcess } from '../support/app';

const PASSWORD = 'correct horse battery staple';

/**
 * Two service processes on one PostgreSQL (a scratch database) and one Redis (a key prefix of this run): what
 * one instance counts or revokes holds on the other at once.
 */
if (MODES.includes('servers')) {
  describe('two service processes on one PostgreSQL and one Redis', () => {
    let a: ServiceProcess | undefined;
    let b: ServiceProcess | undefined;
    let drop: (() => Promise<void>) | undefined;
    const prefix = uniqueKeyPrefix();

    beforeAll(async () => {
      const scratch = await createScratchDatabase();
      drop = scratch.drop;
      const env = {
        DATABASE_URL: scratch.url,
        REDIS_URL: REAL_REDIS_URL,
        REDIS_KEY_PREFIX: prefix,
        ENCRYPTION_KEY: randomBytes(32).toString('hex'),
        APP_PUBLIC_URL: 'https://auth.example.com',
        REQUIRE_EMAIL_VERIFICATION: 'false',
        RATE_LIMIT_VERIFY_IP: '4/1m',
        MIGRATE_ON_START: 'true',
      };
      a = await startServiceProcess(env); // migrates first; the second finds the schema in place
      b = await startServiceProcess(env);
      await expect(call(a.base, '/api/v1/auth/register', { body: { email: 'alice@example.com', password: PASSWORD } })).resolves.toMatchObject({ status: 201 });
    }, 120_000);
    afterAll(async () => {
      await a?.stop();
      await b?.stop();
      await drop?.();
      await dropKeyPrefix(prefix);
    });

    const login = (instance: ServiceProcess, password: string) =>
      call(instance.base, '/api/v1/auth/login', { body: { email: 'alice@example.com', password } });

    it('failed logins on both instances count toward one lockout', async () => {
      for (const instance of [a!, b!, a!, b!, a!]) await expect(login(instance, 'wrong guess')).resolves.toMatchObject({ status: 401 });
      for (const instance of [b!, a!]) {
        const locked = await login(instance, PASSWORD);
        expect([locked.status, locked.body.error?.code, locked.headers.get('retry-after')]).toEqual([429, 'ACCOUNT_LOCKED', '900']);
      }
    });

    it('rate limits are shared: the quota used on one instance is gone on the other', async () => {
      const resend = (instance: ServiceProcess) => call(instance.base, '/api/v1/auth/verify/resend', { body: { email: 'someone@example.com' } });
      const statuses = [];
      for (const instance of [a!, b!, a!, b!, a!, b!]) statuses.push((await resend(instance)).status);
      expect(statuses).toEqual([202, 202, 202, 202, 429, 429]);
    });

    it('a logout through one instance is refused at once by /auth/validate on the other', async () => {
      const fresh = await call(a!.base, '/api/v1/auth/register', { body: { email: 'bob@example.com', password: PASSWORD } });
      const token = fresh.body.data.tokens.access_token as string;
      await expect(call(b!.base, '/api/v1/auth/validate', { token })).resolves.toMatchObject({ status: 200 });
      await expect(call(b!.base, '/api/v1/auth/validate', { token })).resolves.toMatchObject({ status: 200 });
      await expect(call(a!.base, '/api/v1/auth/logout', { body: {}, token })).resolves.toMatchObject({ status: 200 });
      const after = await call(b!.base, '/api/v1/auth/validate', { token });
      expect([after.status, after.body.error?.code]).toEqual([401, 'INVALID_TOKEN']);
      await expect(call(a!.base, '/api/v1/auth/validate', { token })).resolves.toMatchObject({ status: 401 });
    });
  });
} else {
  it('two instances need the real PostgreSQL and Redis: left out here (see the warning; CI=true runs them)', () => {
    expect(MODES).toEqual(['embedded']);
  });
}
