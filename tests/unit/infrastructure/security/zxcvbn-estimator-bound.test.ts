import { Worker } from 'node:worker_threads';
import { DomainError } from '@domain/shared/domain-error';
import { HASHING_BUSY_RETRY_AFTER_SECONDS } from '@infrastructure/security/gate';
import { ZxcvbnStrengthEstimator } from '@infrastructure/security/zxcvbn/zxcvbn-strength-estimator';
import {
  DEFAULT_ESTIMATE_QUEUE_TIMEOUT_MS,
  ESTIMATE_QUEUE_LENGTH,
  ESTIMATES_IN_FLIGHT,
  ZxcvbnWorkerStrengthEstimator,
} from '@infrastructure/security/zxcvbn/zxcvbn-worker-strength-estimator';

const INPUTS = ['ada.lovelace@example.com', 'ada.lovelace', 'ada'];
/** ESTIMATES_IN_FLIGHT, pinned by the first test (spelt out, so the others fail for their own reason without it). */
const IN_FLIGHT = 2;

/** 128 characters of l33t-heavy repeats: the slowest inputs for zxcvbn, what a flood of weak passwords sends. */
function hostile(count: number): string[] {
  const seeds = ['p4$$w0rd', '4@$0!1|3+7', 'aB3$', '1234567890', 'l33t$p34k!'];
  return Array.from({ length: count }, (_, i) => `${i}${seeds[i % seeds.length]!.repeat(40)}`.slice(0, 128));
}

function expectBusy(error: unknown) {
  expect(error).toBeInstanceOf(DomainError);
  expect(error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: HASHING_BUSY_RETRY_AFTER_SECONDS });
}

/** A worker that takes every request and answers none: estimates handed to it stay in flight until close(). */
class SilentWorkerEstimator extends ZxcvbnWorkerStrengthEstimator {
  /** The passwords handed to the worker. */
  readonly sent: string[] = [];
  protected override spawn(): Worker {
    const worker = new Worker(`require('node:worker_threads').parentPort.on('message', () => undefined);`, { eval: true });
    const post = worker.postMessage.bind(worker);
    worker.postMessage = (request: { password: string }) => {
      this.sent.push(request.password);
      post(request);
    };
    return worker;
  }
}

/**
 * The estimate's bound (a security review: a flood of long weak passwords queued thousands of estimates in the one
 * worker, and every registration waited behind them without end). Small bounds here; no assertion on speed: the
 * order of settlement (a refusal settles in microtasks, a reply needs the worker's message) and the bounds' counts.
 */
describe('ZxcvbnWorkerStrengthEstimator: bounded wait', () => {
  // Closed even when a test fails or times out, so that no silent worker keeps Jest from exiting.
  const made: ZxcvbnWorkerStrengthEstimator[] = [];
  afterAll(() => Promise.all(made.map((estimator) => estimator.close())));

  it('has the documented defaults: 2 in the worker, 256 waiting, 2 s', () => {
    expect({ ESTIMATES_IN_FLIGHT, ESTIMATE_QUEUE_LENGTH, DEFAULT_ESTIMATE_QUEUE_TIMEOUT_MS }).toEqual({
      ESTIMATES_IN_FLIGHT: 2,
      ESTIMATE_QUEUE_LENGTH: 256,
      DEFAULT_ESTIMATE_QUEUE_TIMEOUT_MS: 2_000,
    });
  });

  it('refuses a burst beyond the queue at once with the busy error, scores the accepted ones, and scores again after', async () => {
    const QUEUE = 4;
    // A deadline no accepted estimate can reach here, even on a loaded machine: only the queue's length refuses.
    const estimator = new ZxcvbnWorkerStrengthEstimator({ queueLength: QUEUE, queueTimeoutMs: 60_000 });
    made.push(estimator);
    try {
      const passwords = hostile(40);
      const accepted = IN_FLIGHT + QUEUE;
      const settled: { i: number; ok: boolean; value: unknown }[] = [];
      const burst = passwords.map((p, i) =>
        estimator.estimate(p, INPUTS).then(
          (value) => settled.push({ i, ok: true, value }),
          (error: unknown) => settled.push({ i, ok: false, value: error }),
        ),
      );
      await Promise.all(burst);

      const refused = settled.filter((s) => !s.ok);
      const scored = settled.filter((s) => s.ok);
      // The first come are scored, in order; everyone after the full queue is refused.
      expect(scored.map((s) => s.i)).toEqual(Array.from({ length: accepted }, (_, i) => i));
      expect(refused.map((s) => s.i).sort((a, b) => a - b)).toEqual(Array.from({ length: passwords.length - accepted }, (_, i) => accepted + i));
      for (const { value } of refused) expectBusy(value);
      // Promptly: every refusal settled before the first estimate came back from the worker.
      expect(settled.slice(0, refused.length).every((s) => !s.ok)).toBe(true);
      expect(estimator.gate.refused).toEqual({ queue_timeout: 0, queue_full: passwords.length - accepted, client_gone: 0 });
      // The accepted ones got their own password's estimate.
      const inProcess = new ZxcvbnStrengthEstimator();
      for (const { i, value } of scored) expect(value).toEqual(await inProcess.estimate(passwords[i]!, INPUTS));

      // Drained: the queue is empty again and takes a new estimate, and a full queue's worth.
      expect(estimator.gate.queued).toBe(0);
      await expect(estimator.estimate('password', [])).resolves.toEqual({ score: 0, common: true });
      const again = await Promise.all(hostile(accepted).map((p) => estimator.estimate(p, INPUTS)));
      expect(again).toHaveLength(accepted);
    } finally {
      await estimator.close();
    }
  });

  it('refuses a waiting estimate when its deadline passes while the worker is busy, never handing it over', async () => {
    const estimator = new SilentWorkerEstimator({ queueLength: 10, queueTimeoutMs: 50 });
    made.push(estimator);
    try {
      const inFlight = Array.from({ length: IN_FLIGHT }, (_, i) => estimator.estimate(`in flight ${i}`, []));
      const stuck = inFlight.map((p) => expect(p).rejects.toThrow('password strength estimator closed before the estimate finished'));
      const waiting = await Promise.allSettled(['waits 1', 'waits 2', 'waits 3'].map((p) => estimator.estimate(p, [])));
      for (const result of waiting) {
        expect(result.status).toBe('rejected');
        expectBusy((result as PromiseRejectedResult).reason);
      }
      expect(estimator.gate.refused).toEqual({ queue_timeout: 3, queue_full: 0, client_gone: 0 });
      expect(estimator.gate.queued).toBe(0);
      expect(estimator.sent).toEqual(['in flight 0', 'in flight 1']);
      await estimator.close();
      await Promise.all(stuck);
    } finally {
      await estimator.close();
    }
  }, 10_000);

  it('close() rejects the estimates waiting for their turn, not only those in the worker', async () => {
    const estimator = new SilentWorkerEstimator({ queueLength: 10, queueTimeoutMs: 60_000 });
    made.push(estimator);
    const all = Array.from({ length: IN_FLIGHT + 3 }, (_, i) => estimator.estimate(`estimate ${i}`, []));
    const rejected = all.map((p) => expect(p).rejects.toThrow('password strength estimator closed before the estimate finished'));
    expect(estimator.gate.queued).toBe(3);
    await estimator.close();
    await Promise.all(rejected);
    expect(estimator.gate.queued).toBe(0);
    await expect(estimator.estimate('later', [])).rejects.toThrow('password strength estimator is closed');
  }, 10_000);
});
