import { resolve } from '@config/container';
import { TOKENS } from '@config/tokens';
import { ZxcvbnWorkerStrengthEstimator } from '@infrastructure/security/zxcvbn/zxcvbn-worker-strength-estimator';
import { startTestApp } from '../support/app';

describe('the password strength estimate in the running service', () => {
  it('runs in the worker thread, answers registration, and ends with the application', async () => {
    const t = await startTestApp({ ownPasswordStrength: true });
    const estimator = resolve(t.app.container, TOKENS.PasswordStrengthEstimator);
    try {
      expect(estimator).toBeInstanceOf(ZxcvbnWorkerStrengthEstimator);
      const weak = await t.http.post('/api/v1/auth/register').send({ email: 'ada@example.com', password: 'qwertyuiop' });
      expect(weak.status).toBe(400);
      expect(weak.body.error).toMatchObject({ code: 'WEAK_PASSWORD', details: { password: ['is too common'] } });
      await t.http.post('/api/v1/auth/register').send({ email: 'ada@example.com', password: 'a sound and unusual passphrase' }).expect(202);
    } finally {
      await t.stop();
    }
    await expect(estimator.estimate('a sound and unusual passphrase', [])).rejects.toThrow('password strength estimator is closed');
  }, 60_000);
});
