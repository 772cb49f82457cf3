import { DeferredTasks } from '@infrastructure/jobs/deferred-tasks';

type Line = { level: 'info' | 'warn' | 'error'; fields: Record<string, unknown>; message: string };

function recording() {
  const lines: Line[] = [];
  const logger = {
    info: (fields: Record<string, unknown>, message: string) => void lines.push({ level: 'info', fields, message }),
    warn: (fields: Record<string, unknown>, message: string) => void lines.push({ level: 'warn', fields, message }),
    error: (fields: Record<string, unknown>, message: string) => void lines.push({ level: 'error', fields, message }),
  };
  return { lines, logger };
}

/** A task that fails its first `failures` runs (with an error naming a secret it must not log otherwise). */
function flaky(failures: number) {
  const state = { runs: 0, done: false };
  const task = async (): Promise<void> => {
    state.runs += 1;
    if (state.runs <= failures) throw new Error(`blip ${state.runs}`);
    state.done = true;
  };
  return { state, task };
}

const within = <T>(ms: number, promise: Promise<T>, what: string): Promise<T> =>
  Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms).unref())]);

describe('DeferredTasks', () => {
  it('tries a failing task again with a doubling backoff until it succeeds; drain() resolves after that', async () => {
    const { lines, logger } = recording();
    const tasks = new DeferredTasks(logger, { firstDelayMs: 20, maxDelayMs: 1000 });
    const { state, task } = flaky(2);
    const started = Date.now();
    tasks.defer('login failure bookkeeping', task);
    expect(tasks.pending).toBe(1);
    await within(5_000, tasks.drain(), 'drain');
    expect(state).toEqual({ runs: 3, done: true });
    expect(tasks.pending).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(20 + 40 - 5); // 20 ms, then 40 ms
    expect(lines.map((l) => [l.level, l.fields['task'], l.fields['attempt'], l.fields['retryInMs']])).toEqual([
      ['warn', 'login failure bookkeeping', 1, 20],
      ['warn', 'login failure bookkeeping', 2, 40],
      ['info', 'login failure bookkeeping', 3, undefined],
    ]);
  });

  it('the wait between tries is capped', async () => {
    const { lines, logger } = recording();
    const tasks = new DeferredTasks(logger, { firstDelayMs: 5, maxDelayMs: 12 });
    const { state, task } = flaky(4);
    tasks.defer('t', task);
    await within(5_000, tasks.drain(), 'drain');
    expect(state.runs).toBe(5);
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.fields['retryInMs'])).toEqual([5, 10, 12, 12]);
  });

  it('gives a task up once its maximum age has passed, logged as an error naming the task and its tries', async () => {
    const { lines, logger } = recording();
    let now = 1_000_000;
    const tasks = new DeferredTasks(logger, { firstDelayMs: 1, maxDelayMs: 1, maxAgeMs: 60_000, now: () => now });
    let runs = 0;
    tasks.defer('admin refusal audit', async () => {
      runs += 1;
      now += 25_000; // each try "takes" 25 s of the injected clock
      throw new Error('the database is gone');
    });
    await within(5_000, tasks.drain(), 'drain');
    expect(runs).toBe(3); // at 25 s and 50 s there is time left; at 75 s there is not
    const last = lines.at(-1)!;
    expect([last.level, last.message, last.fields['task'], last.fields['attempts'], last.fields['reason']]).toEqual([
      'error',
      'deferred task failed; given up',
      'admin refusal audit',
      3,
      'max_age',
    ]);
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(2);
  });

  it('the last try is at the maximum age: the wait is cut to what is left', async () => {
    const { lines, logger } = recording();
    let now = 0;
    const tasks = new DeferredTasks(logger, { firstDelayMs: 10_000, maxDelayMs: 10_000, maxAgeMs: 30, now: () => now });
    let runs = 0;
    tasks.defer('t', async () => {
      runs += 1;
      now += 10;
      throw new Error('down');
    });
    await within(5_000, tasks.drain(), 'drain');
    expect(runs).toBe(3);
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.fields['retryInMs'])).toEqual([20, 10]);
  });

  it('close() during the retries does not wait for the backoff: a waiting task is tried once more, then given up', async () => {
    const { lines, logger } = recording();
    const tasks = new DeferredTasks(logger, { firstDelayMs: 60_000, maxDelayMs: 60_000 });
    let runs = 0;
    tasks.defer('login failure bookkeeping', async () => {
      runs += 1;
      throw new Error('down');
    });
    while (runs === 0) await new Promise((resolve) => setImmediate(resolve));
    await within(2_000, tasks.close(), 'close');
    expect(runs).toBe(2);
    expect(tasks.pending).toBe(0);
    expect(lines.at(-1)!.fields).toMatchObject({ task: 'login failure bookkeeping', attempts: 2, reason: 'shutdown' });
  });

  it('close() while a try is under way: one more try at once if it fails, and one that then succeeds counts', async () => {
    const { logger } = recording();
    const tasks = new DeferredTasks(logger, { firstDelayMs: 60_000 });
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let runs = 0;
    let done = false;
    tasks.defer('t', async () => {
      runs += 1;
      if (runs === 1) {
        await held;
        throw new Error('blip');
      }
      done = true;
    });
    while (runs === 0) await new Promise((resolve) => setImmediate(resolve));
    const closing = tasks.close();
    release();
    await within(2_000, closing, 'close');
    expect([runs, done]).toEqual([2, true]);
  });

  it('a task deferred once closing gets one try only', async () => {
    const { lines, logger } = recording();
    const tasks = new DeferredTasks(logger, { firstDelayMs: 60_000 });
    await tasks.close();
    let runs = 0;
    tasks.defer('t', async () => {
      runs += 1;
      throw new Error('down');
    });
    await within(2_000, tasks.drain(), 'drain');
    expect(runs).toBe(1);
    expect(lines.map((l) => l.level)).toEqual(['error']);
  });

  it('at most maxWaiting tasks wait for a retry: one failing beyond that is given up at once (overflow)', async () => {
    const { lines, logger } = recording();
    const tasks = new DeferredTasks(logger, { firstDelayMs: 60_000, maxWaiting: 3 });
    let runs = 0;
    for (let i = 0; i < 5; i++) {
      tasks.defer('t', async () => {
        runs += 1;
        throw new Error('down');
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(runs).toBe(5);
    expect(tasks.pending).toBe(3);
    expect(lines.filter((l) => l.level === 'error').map((l) => l.fields['reason'])).toEqual(['overflow', 'overflow']);
    await within(2_000, tasks.close(), 'close');
    expect(tasks.pending).toBe(0);
  });

  it('logs the task by name, never what it closes over', async () => {
    const { lines, logger } = recording();
    const tasks = new DeferredTasks(logger, { firstDelayMs: 1 });
    const identifier = 'alice@example.com';
    const { task } = flaky(1);
    tasks.defer('login failure bookkeeping', () => task().then(() => void identifier));
    await tasks.drain();
    expect(JSON.stringify(lines)).not.toContain(identifier);
  });
});
