import { ZxcvbnWorkerStrengthEstimator } from '@infrastructure/security/zxcvbn/zxcvbn-worker-strength-estimator';
import { NO_RATE_LIMITS, type TestApp, startTestApp } from '../support/app';
import { samplesOf, valueOf } from '../support/prometheus';

/**
 * The strength estimator's refusals (its worker saturated: 503 before anything is hashed or written) are in
 * /metrics as auth_password_strength_refusals_total{reason}, as the hasher's are in
 * auth_password_hashing_refusals_total: until stop 48 an operator saw the 503s and no count of why.
 */
describe('GET /metrics: password strength estimate refusals', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { ...NO_RATE_LIMITS, ZXCVBN_QUEUE_TIMEOUT: '1s' }, ownPasswordStrength: true });
  }, 60_000);
  afterAll(async () => t?.stop());

  const scrape = async () => samplesOf((await t.http.get('/metrics').expect(200)).text);
  const register = (email: string) => t.http.post('/api/v1/auth/register').timeout(5_000).send({ email, password: 'Correct horse battery staple 1' });

  function estimator(): ZxcvbnWorkerStrengthEstimator {
    const strength = t.app.infra.passwordStrength;
    if (!(strength instanceof ZxcvbnWorkerStrengthEstimator)) throw new Error('the service scores passwords in the zxcvbn worker');
    return strength;
  }

  it('counts a queue timeout and a full queue by reason, and nothing for estimates that ran', async () => {
    const gate = estimator().gate;
    const before = await scrape();
    expect(valueOf(before, 'auth_password_strength_refusals_total', { reason: 'queue_timeout' })).toBe(0);
    // A scored registration counts nothing.
    await register('scored@example.com').expect(202);
    // Both places in the worker held: the next estimate waits its 1 s and is refused.
    const releases: Array<() => void> = [];
    const holders = Array.from({ length: 2 }, () => gate.run(() => new Promise<void>((resolve) => releases.push(resolve))));
    try {
      const timedOut = await register('waited@example.com');
      expect([timedOut.status, timedOut.body.error.code, timedOut.headers['retry-after']]).toEqual([503, 'SERVICE_UNAVAILABLE', '2']);
      // The queue full too: refused at once.
      const fillers = Array.from({ length: 256 }, () => gate.run(async () => undefined).catch(() => undefined));
      const full = await register('full@example.com');
      expect([full.status, full.body.error.code]).toEqual([503, 'SERVICE_UNAVAILABLE']);
      const after = await scrape();
      const delta = (reason: string) =>
        valueOf(after, 'auth_password_strength_refusals_total', { reason }) - valueOf(before, 'auth_password_strength_refusals_total', { reason });
      expect([delta('queue_timeout'), delta('queue_full'), delta('client_gone')]).toEqual([1, 1, 0]);
      // The hasher's own counter is another gate's: untouched.
      expect(valueOf(after, 'auth_password_hashing_refusals_total', { reason: 'queue_full' })).toBe(0);
      for (const release of releases) release();
      await Promise.all([...holders, ...fillers]);
    } finally {
      for (const release of releases) release();
    }
    await register('later@example.com').expect(202);
  }, 30_000);
});
