import { BackgroundWorker, type RoundResult } from '@infrastructure/jobs/background-worker';

const tick = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * A review of stop 51: after a broker outage the relay slept out its backoff (up to 30 s; pokes ignored) though the
 * broker was back. wake() is the broker's return: it ends a backoff, where a poke (a commit) still does not.
 */
describe('BackgroundWorker.wake()', () => {
  it('cuts a backoff short and runs a round at once, where a poke waits it out', async () => {
    const results: RoundResult[] = [{ backoffMs: 60_000 }];
    let calls = 0;
    const worker = new BackgroundWorker(async () => {
      calls += 1;
      return results.shift() ?? 'idle';
    }, { name: 't', pollIntervalMs: 60_000 }, logger);
    worker.start();
    await tick();
    expect(calls).toBe(1);
    worker.poke();
    await sleep(20);
    expect(calls).toBe(1); // backing off: the poke is ignored
    worker.wake();
    await tick();
    expect(calls).toBe(2);
    // Out of the backoff (the round was idle): pokes run rounds again.
    worker.poke();
    await tick();
    expect(calls).toBe(3);
    await worker.stop();
  });

  it('a wake during a round voids the backoff that round asks for (it saw the dependency still away)', async () => {
    let calls = 0;
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const worker = new BackgroundWorker(async () => {
      calls += 1;
      if (calls === 1) {
        await held;
        return { backoffMs: 60_000 };
      }
      return 'idle';
    }, { name: 't', pollIntervalMs: 60_000 }, logger);
    worker.start();
    await tick();
    worker.wake(); // the broker came back while the first round was deciding it was away
    release();
    await sleep(20);
    expect(calls).toBe(2);
    await worker.stop();
  });

  it('does nothing once stopped', async () => {
    let calls = 0;
    const worker = new BackgroundWorker(async () => {
      calls += 1;
      return 'idle';
    }, { name: 't', pollIntervalMs: 60_000 }, logger);
    await worker.stop();
    worker.wake();
    await sleep(20);
    expect(calls).toBe(0);
  });
});
