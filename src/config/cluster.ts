import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { serveClusterMetrics } from './cluster-metrics';

export interface ClusterOptions {
  /** Worker processes to keep running (WORKERS). */
  workers: number;
  /** First delay before replacing a worker that died soon after its start; doubles per such death, up to max. */
  minRestartDelayMs: number;
  maxRestartDelayMs: number;
  /** A worker that served this long before dying counts as stable: its replacement waits only the minimum. */
  stableAfterMs: number;
  /**
   * After SIGTERM, how long the workers get to drain before they are killed: longer than a worker's own bound
   * (SHUTDOWN_LIMIT_MS: 10 s for requests, then its pools, queues and a send in hand), so that the primary never
   * cuts a shutdown the worker would have finished (until stop 34 it was 15 s: a worker closing its jobs after a
   * slow request was killed mid-send; an outside review found it).
   */
  shutdownTimeoutMs: number;
}

/** The longest a process's shutdown may take: the 10-s request grace, then the pools, workers and connections. */
export const SHUTDOWN_LIMIT_MS = 30_000;

export const DEFAULT_CLUSTER_OPTIONS: Omit<ClusterOptions, 'workers'> = {
  minRestartDelayMs: 500,
  maxRestartDelayMs: 30_000,
  stableAfterMs: 60_000,
  shutdownTimeoutMs: SHUTDOWN_LIMIT_MS + 5_000,
};

/**
 * The wait before replacing a dead worker, after `youngDeaths` deaths in a row of workers that died before
 * `stableAfterMs` (0: the last one had been stable): min, doubling, capped at max. A worker that cannot start
 * (database away) is retried every 30 s at most, never in a hot loop.
 */
export function restartDelayMs(youngDeaths: number, options: Pick<ClusterOptions, 'minRestartDelayMs' | 'maxRestartDelayMs'>): number {
  return Math.min(options.maxRestartDelayMs, options.minRestartDelayMs * 2 ** Math.max(0, youngDeaths - 1));
}

/**
 * The primary of WORKERS>1 (node:cluster): it serves nothing itself. Workers run the whole service (HTTP on
 * the shared port and the background jobs, which claim their work with row locks and leases so that any number
 * of processes can run them). Workers start one at a time, each once the previous one listens, so that the
 * start-up work done once per database (MIGRATE_ON_START, the first signing key, a generated key file) is done
 * by the first. A worker that dies is replaced after a delay that doubles while workers keep dying young. SIGTERM
 * or SIGINT: every worker gets SIGTERM and drains (in-flight requests, the job in hand); the primary exits once
 * all have, killing those still running after `shutdownTimeoutMs`. GET /metrics on any worker is answered with
 * every worker's metrics, summed here (cluster-metrics.ts).
 */
export function runPrimary(logger: Logger, settings: Pick<ClusterOptions, 'workers'> & Partial<ClusterOptions>): void {
  const options: ClusterOptions = { ...DEFAULT_CLUSTER_OPTIONS, ...settings };
  const log = logger.child({ component: 'cluster' });
  const startedAt = new Map<number, number>();
  let starting: Worker | null = null;
  let restartTimer: NodeJS.Timeout | null = null;
  let youngDeaths = 0;
  let stopping = false;
  let exitCode = 0;

  const live = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());

  /** Replaces a worker later: after the restart delay, which doubles while workers keep dying young. */
  const replaceLater = (lived: number, details: Record<string, unknown>, message: string): void => {
    youngDeaths = lived >= options.stableAfterMs ? 0 : youngDeaths + 1;
    const delay = restartDelayMs(youngDeaths, options);
    log.error({ ...details, lived_ms: lived, restart_in_ms: delay }, message);
    if (restartTimer) clearTimeout(restartTimer);
    restartTimer = setTimeout(() => {
      restartTimer = null;
      fill();
    }, delay);
  };

  /**
   * Forks one worker when fewer than wanted run, none is starting and no restart delay is pending. A fork that fails
   * (ENOMEM thrown, or EAGAIN reported as the worker's `error`: a pids or process limit, most likely right after a
   * worker died) is retried as a worker that died young. Until a review of stop 60 either one was an uncaught
   * exception in the primary, which exited and took every healthy worker with it.
   */
  const fill = (): void => {
    if (stopping || starting || restartTimer || live().length >= options.workers) return;
    let worker: Worker;
    try {
      worker = cluster.fork();
    } catch (error) {
      replaceLater(0, { err: error instanceof Error ? error.message : String(error) }, 'could not start a worker; trying again');
      return;
    }
    starting = worker;
    startedAt.set(worker.id, Date.now());
    worker.on('error', (error: Error) => {
      // A process that never started sends no `exit`: without this, `starting` would hold it for ever.
      if (worker.process.pid !== undefined || !startedAt.has(worker.id)) {
        log.warn({ worker: worker.id, err: error.message }, 'worker error');
        return;
      }
      if (starting === worker) starting = null;
      const lived = Date.now() - (startedAt.get(worker.id) ?? Date.now());
      startedAt.delete(worker.id);
      replaceLater(lived, { worker: worker.id, err: error.message }, 'could not start a worker; trying again');
    });
    worker.once('listening', (address: { port: number }) => {
      if (starting === worker) starting = null;
      log.info({ worker: worker.id, pid: worker.process.pid, port: address.port, workers: live().length }, 'worker listening');
      fill();
    });
  };

  cluster.on('exit', (worker, code, signal) => {
    if (starting === worker) starting = null;
    if (!startedAt.has(worker.id)) return; // its start failed, and is being retried already
    const lived = Date.now() - (startedAt.get(worker.id) ?? Date.now());
    startedAt.delete(worker.id);
    if (stopping) {
      // Ended by the stop's own signal (a worker forked too recently to catch it dies by its default action; Ctrl-C
      // reaches the whole process group): a stop, not a failure. Until a review (2026-12-08) it made the exit 1.
      const stoppedBySignal = code === null && (signal === 'SIGTERM' || signal === 'SIGINT');
      if (code !== 0 && !stoppedBySignal) exitCode = 1;
      if (live().length === 0) process.exit(exitCode);
      return;
    }
    // exit_code, not code: the logger redacts `code` (a second factor's), and the line read "[redacted]" (an outside review).
    replaceLater(lived, { worker: worker.id, pid: worker.process.pid, exit_code: code, signal }, 'worker died; replacing it');
  });

  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    if (restartTimer) clearTimeout(restartTimer);
    const workers = live();
    log.info({ signal, workers: workers.length }, 'shutting down: draining the workers');
    if (workers.length === 0) process.exit(0);
    for (const worker of workers) worker.process.kill('SIGTERM');
    setTimeout(() => {
      const left = live();
      log.error({ workers: left.length }, 'workers still running after the shutdown timeout: killed');
      for (const worker of left) worker.process.kill('SIGKILL');
      process.exit(1);
    }, options.shutdownTimeoutMs).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  serveClusterMetrics();
  log.info({ workers: options.workers, pid: process.pid }, `auth-service primary: starting ${options.workers} workers`);
  fill();
}
