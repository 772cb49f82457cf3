import { type TestApp, MODES, NO_LIMITS, startSecureApp, PRODUCTION_HASHING } from '../support/app';

const PASSWORD = 'correct horse battery staple';
const ROUNDS = 100;
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/**
 * CONTRACT §1/§5: an unknown account costs the same as a known one with a wrong password. Lockout and limits
 * are out of the way (NO_LIMITS) so that all 200 attempts reach the password check; the two kinds alternate
 * so that a slow moment of the machine hits both alike. Runs on the real servers when they are there.
 */
describe('login timing: unknown account vs wrong password', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startSecureApp(MODES[MODES.length - 1]!, { ...NO_LIMITS, ...PRODUCTION_HASHING });
    await t.http.post('/api/v1/auth/register').send({ email: 'known@example.com', password: PASSWORD }).expect(202);
    await t.waitForMail('known@example.com');
    await t.http.post('/api/v1/auth/verify').send({ token: t.lastMailedToken('known@example.com') }).expect(200);
  }, 60_000);
  afterAll(async () => t?.stop());

  async function timed(email: string): Promise<number> {
    const started = process.hrtime.bigint();
    const response = await t.http.post('/api/v1/auth/login').send({ email, password: 'not the password' });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    expect([response.status, response.body.error?.code]).toEqual([401, 'INVALID_CREDENTIALS']);
    return ms;
  }

  it(`medians of ${ROUNDS} attempts each differ by at most 20%`, async () => {
    for (let i = 0; i < 10; i += 1) await timed(i % 2 ? 'known@example.com' : `warmup${i}@example.com`);
    const unknown: number[] = [];
    const known: number[] = [];
    for (let i = 0; i < ROUNDS; i += 1) {
      unknown.push(await timed(`nobody-${i}@example.com`));
      known.push(await timed('known@example.com'));
    }
    const [u, k] = [median(unknown), median(known)];
    const difference = Math.abs(u - k) / Math.min(u, k);
    process.stdout.write(`[timing] median unknown ${u.toFixed(2)} ms, wrong password ${k.toFixed(2)} ms, difference ${(difference * 100).toFixed(1)}%\n`);
    expect(difference).toBeLessThanOrEqual(0.2);
  }, 120_000);
});
