import { EventEmitter } from 'node:events';
import pino from 'pino';

/**
 * A review (2026-12-08): on SIGTERM the primary sends SIGTERM to every worker. A worker forked a moment before has not
 * caught the signals yet (its first module does: src/config/stop-signals-caught.ts), so the signal's default action
 * ends it (exit code null, signal SIGTERM): that is a stop, not a failure, and a clean shutdown must exit 0. It exited
 * 1. Here node:cluster is a stand-in; the primary (runPrimary) is the real one.
 */
class FakeWorker extends EventEmitter {
  dead = false;
  constructor(
    readonly id: number,
    readonly process: { pid: number; kill(signal: NodeJS.Signals): void },
  ) {
    super();
  }
  isDead(): boolean {
    return this.dead;
  }
  isConnected(): boolean {
    return !this.dead;
  }
  send(): boolean {
    return true;
  }
}

jest.mock('node:cluster', () => {
  const { EventEmitter: Emitter } = jest.requireActual<typeof import('node:events')>('node:events');
  return { __esModule: true, default: Object.assign(new Emitter(), { workers: {}, fork: jest.fn() }) };
});
const fakeCluster = jest.requireMock<{ default: EventEmitter & { workers: Record<number, FakeWorker>; fork: jest.Mock<FakeWorker, []> } }>('node:cluster').default;
const { runPrimary } = jest.requireActual<typeof import('@config/cluster')>('@config/cluster');

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('runPrimary: stopping', () => {
  const signals = ['SIGTERM', 'SIGINT'] as const;
  const before = new Map(signals.map((signal) => [signal, process.listeners(signal)]));
  let exit: jest.SpyInstance;
  let next = 1;
  beforeEach(() => {
    exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
  });
  afterEach(() => {
    exit.mockRestore();
    // runPrimary's signal handlers and its `exit` listener, not this jest worker's.
    for (const signal of signals) for (const listener of process.listeners(signal)) if (!before.get(signal)!.includes(listener)) process.off(signal, listener);
    fakeCluster.removeAllListeners();
  });

  /**
   * Two workers: the first listening, which drains and exits 0; the second forked but not started, which the
   * forwarded signal ends by its default action (or ends as `second` says).
   */
  async function stopWith(signal: 'SIGTERM' | 'SIGINT', second: { code: number | null; signal: NodeJS.Signals | null }): Promise<void> {
    const died = (worker: FakeWorker, code: number | null, by: NodeJS.Signals | null) =>
      setImmediate(() => {
        worker.dead = true;
        fakeCluster.emit('exit', worker, code, by);
      });
    const workers: FakeWorker[] = [];
    fakeCluster.fork.mockImplementation(() => {
      const index = workers.length;
      const worker: FakeWorker = new FakeWorker(next, {
        pid: 2000 + next,
        kill: () => (index === 0 ? died(worker, 0, null) : died(worker, second.code, second.signal)),
      });
      fakeCluster.workers[next] = worker;
      next += 1;
      workers.push(worker);
      // Only the first gets as far as listening.
      if (index === 0) setImmediate(() => worker.emit('listening', { port: 3000 }));
      return worker;
    });
    runPrimary(pino({ level: 'silent' }), { workers: 2, minRestartDelayMs: 10, maxRestartDelayMs: 40 });
    for (let waited = 0; workers.length < 2 && waited < 2000; waited += 5) await tick(5);
    expect(workers).toHaveLength(2);
    const handlers = process.listeners(signal).filter((listener) => !before.get(signal)!.includes(listener));
    expect(handlers).toHaveLength(1);
    (handlers[0] as () => void)();
    for (let waited = 0; exit.mock.calls.length === 0 && waited < 2000; waited += 5) await tick(5);
  }

  it.each(signals)('%s: a worker forked just before, ended by the forwarded SIGTERM, is a clean stop: exit 0', async (signal) => {
    await stopWith(signal, { code: null, signal: 'SIGTERM' });
    expect(exit.mock.calls).toEqual([[0]]);
  });

  it('a worker that fails during the stop (exit code 1) still makes it exit 1', async () => {
    await stopWith('SIGTERM', { code: 1, signal: null });
    expect(exit.mock.calls).toEqual([[1]]);
  });
});
