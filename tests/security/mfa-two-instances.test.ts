import { randomBytes } from 'node:crypto';
import { createScratchDatabase, dropKeyPrefix, REAL_REDIS_URL, uniqueKeyPrefix } from '../support/servers';
import { MODES, call, startServiceProcess, type ServiceProcess } from '../support/app';
import { awayFromStepEdge, oathtool, STEP_MS } from '../support/totp';

const PASSWORD = 'correct horse battery staple';

/**
 * RFC 6238 section 5.2 across instances: two service processes on one PostgreSQL and one Redis, each given its
 * own pending login of the same account, and the same code at the same moment. Exactly one signs in. Codes come
 * from oathtool on the real clock (the processes use the system clock).
 */
if (MODES.includes('servers')) {
  describe('one TOTP code presented to two service processes at once', () => {
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
        RATE_LIMIT_LOGIN_ID: 'off',
        RATE_LIMIT_MFA_ID: 'off',
        MIGRATE_ON_START: 'true',
      };
      a = await startServiceProcess(env);
      b = await startServiceProcess(env);
    }, 120_000);
    afterAll(async () => {
      await a?.stop();
      await b?.stop();
      await drop?.();
      await dropKeyPrefix(prefix);
    });

    /** A new account with TOTP on (through instance a); its secret. */
    async function enrolled(email: string): Promise<string> {
      const registered = await call(a!.base, '/api/v1/auth/register', { body: { email, password: PASSWORD } });
      expect(registered.status).toBe(201);
      const token = registered.body.data.tokens.access_token as string;
      const setup = await call(a!.base, '/api/v1/auth/mfa/totp/setup', { body: {}, token });
      const secret = setup.body.data.secret as string;
      // The previous step's code: T-1 is accepted, and leaves T and T+1 for the race.
      await awayFromStepEdge();
      const enabled = await call(a!.base, '/api/v1/auth/mfa/totp/enable', { body: { code: oathtool(secret, new Date(Date.now() - STEP_MS)) }, token });
      expect(enabled.status).toBe(200);
      return secret;
    }

    async function pending(instance: ServiceProcess, email: string): Promise<string> {
      const login = await call(instance.base, '/api/v1/auth/login', { body: { email, password: PASSWORD } });
      expect(login.body.data?.mfa_required).toBe(true);
      return login.body.data.mfa_token as string;
    }

    it('accepts the code exactly once, round after round', async () => {
      let cuts = 0;
      for (let round = 0; round < 8; round++) {
        const email = `race-${round}-${cuts}@example.com`;
        const secret = await enrolled(email);
        const [onA, onB] = [await pending(a!, email), await pending(b!, email)];
        await awayFromStepEdge();
        const code = oathtool(secret, new Date());
        const answers = await Promise.all([
          call(a!.base, '/api/v1/auth/mfa/verify', { body: { mfa_token: onA, code } }),
          call(b!.base, '/api/v1/auth/mfa/verify', { body: { mfa_token: onB, code } }),
        ]).catch((error: unknown) => error as Error);
        // Not `instanceof Error`: fetch's errors may come from another realm (stop 48 saw one pass that check).
        if (!Array.isArray(answers)) {
          // A connection cut (CI, 2026-12-03: "other side closed" from b, not reproduced since): a process that died
          // fails the test with what it wrote; with both alive, the round is not evidence either way, and is run
          // again with a new account, once.
          const state = (p: ServiceProcess) => `exit ${p.child.exitCode} signal ${p.child.signalCode}\n${p.output().slice(-4_000)}`;
          const report = `round ${round}: ${String(answers)} (${String(answers.cause)})\na: ${state(a!)}\nb: ${state(b!)}`;
          if (a!.child.exitCode !== null || b!.child.exitCode !== null || a!.child.signalCode || b!.child.signalCode || cuts > 0) throw new Error(report);
          console.warn(`[mfa-two-instances] a connection was cut, both processes alive; the round runs again\n${report}`);
          cuts += 1;
          round -= 1;
          continue;
        }
        const statuses = answers.map((answer) => answer.status).sort();
        expect([round, statuses]).toEqual([round, [200, 401]]);
      }
    }, 120_000);
  });
} else {
  it('needs PostgreSQL and Redis (not selected here)', () => {
    expect(MODES).toEqual(['embedded']);
  });
}
