import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { ZxcvbnWorkerStrengthEstimator } from '@infrastructure/security/zxcvbn/zxcvbn-worker-strength-estimator';
import { NO_RATE_LIMITS, startSecureApp } from '../support/app';
import { cliInProcess } from '../support/cli-in-process';
import { seedMigratedPgdata } from '../support/pgdata-template';
import { samplesOf, valueOf } from '../support/prometheus';

/** Every zxcvbn worker started in this process, and how many replies each had sent when asked. */
interface Started {
  worker: Worker;
  replies: number;
}

/** Watches the estimator's spawn() (its seam for tests) on the prototype: the composition root makes its own. */
function watchSpawns(): { started: Started[]; restore(): void } {
  const started: Started[] = [];
  const prototype = ZxcvbnWorkerStrengthEstimator.prototype as unknown as { spawn(): Worker };
  const original = prototype.spawn;
  const spy = jest.spyOn(prototype, 'spawn').mockImplementation(function (this: ZxcvbnWorkerStrengthEstimator) {
    const worker = original.call(this);
    const entry: Started = { worker, replies: 0 };
    worker.on('message', () => entry.replies++);
    started.push(entry);
    return worker;
  });
  return { started, restore: () => spy.mockRestore() };
}

/**
 * A probe of stop 51: in embedded mode, right after start-up (ready), 8 registrations sent at once got 2 answers
 * and 6 503 SERVICE_UNAVAILABLE (auth_password_strength_refusals_total{reason="queue_timeout"} 6). The zxcvbn
 * worker started with the first estimate: the first two held both places in it while it loaded its dictionaries,
 * and the rest waited out ZXCVBN_QUEUE_TIMEOUT. Since stop 52 the start warms it up, as it does the hasher.
 */
describe('the password strength worker is warmed up at start', () => {
  it('has started and answered before the application is ready, and a burst of registrations at once is all scored', async () => {
    const spawns = watchSpawns();
    const t = await startSecureApp('embedded', NO_RATE_LIMITS, { ownPasswordStrength: true }).catch((error: unknown) => {
      spawns.restore();
      throw error;
    });
    try {
      // Asked when createApplication has resolved (the service would now listen and report ready): one worker,
      // and it has answered (its dictionaries loaded). Until stop 52: none started.
      expect(spawns.started.map((entry) => entry.replies >= 1)).toEqual([true]);
      const burst = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          t.http.post('/api/v1/auth/register').timeout(10_000).send({ email: `burst-${i}@example.com`, password: `Correct horse battery staple ${i}` }),
        ),
      );
      expect(burst.map((response) => response.status)).toEqual(Array(8).fill(202));
      const metrics = samplesOf((await t.http.get('/metrics').expect(200)).text);
      expect(valueOf(metrics, 'auth_password_strength_refusals_total', { reason: 'queue_timeout' })).toBe(0);
      // The warmed-up worker scored them all. (In this warm Jest process the burst was scored before stop 52 too: the
      // dictionaries load fast here; the 503s were a cold service process's. The assertion above is the one that fails.)
      expect(spawns.started).toHaveLength(1);
    } finally {
      spawns.restore();
      await t.stop();
    }
  }, 60_000);

  it('a CLI command that scores no password starts no worker', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'auth-cli-warm-'));
    const spawns = watchSpawns();
    try {
      await seedMigratedPgdata(dir);
      const run = await cliInProcess(['list-clients'], { DATA_DIR: dir });
      expect([run.code, run.stderr]).toEqual([0, '']);
      expect(spawns.started).toHaveLength(0);
    } finally {
      spawns.restore();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
