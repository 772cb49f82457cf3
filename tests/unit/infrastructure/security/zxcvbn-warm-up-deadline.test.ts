import { Worker } from 'node:worker_threads';
import { ZxcvbnWorkerStrengthEstimator } from '@infrastructure/security/zxcvbn/zxcvbn-worker-strength-estimator';

/**
 * A review of stop 52: warmUp() had no deadline, so a worker that started but never answered held the service's
 * start for good (startInfrastructure never returned, the service never listened), and a failure was swallowed
 * without a log line. warmUp() now resolves within its deadline with the outcome (the composition root logs it),
 * terminates the silent worker, and the next estimate starts a fresh one.
 */
describe('ZxcvbnWorkerStrengthEstimator.warmUp() with a worker that never answers', () => {
  it('resolves within the deadline, says why, terminates that worker, and the next estimate works on a new one', async () => {
    const prototype = ZxcvbnWorkerStrengthEstimator.prototype as unknown as { spawn(): Worker };
    const original = prototype.spawn;
    const started: Worker[] = [];
    const exited: Worker[] = [];
    const spy = jest.spyOn(prototype, 'spawn').mockImplementation(function (this: ZxcvbnWorkerStrengthEstimator) {
      // The first worker starts and then never answers; the ones after it are the real one.
      const worker = started.length === 0 ? new Worker('setInterval(() => {}, 1000)', { eval: true }) : original.call(this);
      worker.once('exit', () => exited.push(worker));
      started.push(worker);
      return worker;
    });
    const estimator = new ZxcvbnWorkerStrengthEstimator({ warmUpDeadlineMs: 300 });
    try {
      const begun = Date.now();
      const outcome = await Promise.race([estimator.warmUp(), new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 5_000).unref())]);
      expect(outcome).toEqual({ ok: false, reason: 'no answer within 300 ms' });
      expect(Date.now() - begun).toBeLessThan(4_500); // the 300 ms deadline, not the 5 s race
      expect(exited).toEqual([started[0]]); // the silent worker was terminated
      const estimate = await estimator.estimate('Correct horse battery staple', []);
      expect(estimate.score).toBeGreaterThanOrEqual(3);
      expect(started).toHaveLength(2);
    } finally {
      spy.mockRestore();
      await estimator.close();
      for (const worker of started) await worker.terminate();
    }
  }, 20_000);

  it('a worker that answers: warmUp() says ok and keeps it', async () => {
    const estimator = new ZxcvbnWorkerStrengthEstimator({ warmUpDeadlineMs: 10_000 });
    try {
      await expect(estimator.warmUp()).resolves.toEqual({ ok: true });
    } finally {
      await estimator.close();
    }
  }, 20_000);
});
