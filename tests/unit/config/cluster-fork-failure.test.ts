import { EventEmitter } from 'node:events';
import pino from 'pino';

/**
 * A review of stop 60: a fork that fails when the primary replaces a worker (EAGAIN under a pids or process limit,
 * reported as the new worker's `error`; ENOMEM, thrown) was an uncaught exception in the primary, which exited and
 * took every healthy worker with it. Here node:cluster is a stand-in whose fork() fails as those do; the primary
 * (runPrimary) is the real one.
 */
class FakeWorker extends EventEmitter {
  dead = false;
  constructor(readonly id: number, readonly process: { pid: number | undefined; kill(): void }) {
    super();
  }
  isDead(): boolean {
    return this.dead;
  }
  isConnected(): boolean {
    return true;
  }
  send(): boolean {
    return true;
  }
}

jest.mock('node:cluster', () => {
  const { EventEmitter: Emitter } = jest.requireActual<typeof import('node:events')>('node:events');
  return { __esModule: true, default: Object.assign(new Emitter(), { workers: {}, fork: jest.fn() }) };
});
const fakeCluster = (jest.requireMock<{ default: EventEmitter & { workers: Record<number, FakeWorker>; fork: jest.Mock<FakeWorker, []> } }>('node:cluster')).default;
const { runPrimary } = jest.requireActual<typeof import('@config/cluster')>('@config/cluster');

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('runPrimary: a fork that fails', () => {
  const signals = ['SIGTERM', 'SIGINT'] as const;
  const before = new Map(signals.map((signal) => [signal, process.listeners(signal)]));
  afterAll(() => {
    // runPrimary's signal handlers, not this jest worker's.
    for (const signal of signals) for (const listener of process.listeners(signal)) if (!before.get(signal)!.includes(listener)) process.off(signal, listener);
  });

  it('is tried again after the restart delay, whether it threw (ENOMEM) or reported an error (EAGAIN), and the primary stays up', async () => {
    let next = 1;
    const started = (): FakeWorker => {
      const worker = new FakeWorker(next, { pid: 1000 + next, kill: () => undefined });
      fakeCluster.workers[next] = worker;
      next += 1;
      setImmediate(() => worker.emit('listening', { port: 3000 }));
      return worker;
    };
    const neverStarted = (): FakeWorker => {
      const worker = new FakeWorker(next, { pid: undefined, kill: () => undefined });
      worker.dead = true;
      fakeCluster.workers[next] = worker;
      next += 1;
      // As node reports a spawn that failed: an `error` event, later, and no `exit` ever.
      setImmediate(() => worker.emit('error', Object.assign(new Error('spawn EAGAIN'), { code: 'EAGAIN' })));
      return worker;
    };
    fakeCluster.fork
      .mockImplementationOnce(() => {
        throw Object.assign(new Error('spawn ENOMEM'), { code: 'ENOMEM' });
      })
      .mockImplementationOnce(neverStarted)
      .mockImplementation(started);
    const lines: { msg: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });

    runPrimary(logger, { workers: 2, minRestartDelayMs: 10, maxRestartDelayMs: 40 });
    // Until the fourth fork and both workers' `listening` (emitted on the fork's next turn), or 5 s.
    const listening = () => lines.filter((line) => line.msg === 'worker listening').length;
    for (let waited = 0; (fakeCluster.fork.mock.calls.length < 4 || listening() < 2) && waited < 5000; waited += 10) await tick(10);

    // The throw, the spawn that never started, then two workers that listen.
    expect(fakeCluster.fork).toHaveBeenCalledTimes(4);
    expect(lines.filter((line) => line.msg === 'could not start a worker; trying again')).toHaveLength(2);
    expect(listening()).toBe(2);
    await tick(50);
    expect(fakeCluster.fork).toHaveBeenCalledTimes(4);
  });
});
