import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';

/**
 * WORKERS=N (node:cluster): this primary process forks N workers, each a whole service instance (HTTP, outbox
 * relay, email sender, subscribers) sharing the listening port. They coordinate like separate instances do:
 * through PostgreSQL (claims with FOR UPDATE SKIP LOCKED), Redis and RabbitMQ, so config requires DATABASE_URL
 * and REDIS_URL for N > 1. A worker that dies after it started listening is replaced (1 s, doubling to 30 s);
 * one that dies before (a bad configuration, an unreachable database) stops the whole process with an error, as
 * a single process would. Migrations (MIGRATE_ON_START) run once in the primary before the fork, never in workers. SIGTERM/SIGINT are passed to every worker, which shut down gracefully; the primary
 * exits when they all have.
 */
export function runPrimary(count: number, logger: Logger, workerEnv: Record<string, string> = {}): void {
  let stopping = false;
  let failed = false;
  let restartDelayMs = 1000;
  const listening = new WeakSet<Worker>();

  const fork = () => {
    const worker = cluster.fork(workerEnv);
    worker.once('listening', () => {
      listening.add(worker);
      restartDelayMs = 1000;
    });
  };

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, workers: Object.keys(cluster.workers ?? {}).length }, 'stopping the workers');
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
  };

  cluster.on('exit', (worker, code, signal) => {
    const remaining = Object.keys(cluster.workers ?? {}).length;
    if (!stopping && !listening.has(worker)) {
      logger.error({ pid: worker.process.pid, code, signal }, 'a worker failed before it was ready: stopping');
      failed = true;
      stop('SIGTERM');
    } else if (!stopping) {
      logger.error({ pid: worker.process.pid, code, signal, restart_in_ms: restartDelayMs }, 'a worker died: starting another');
      setTimeout(() => (stopping ? undefined : fork()), restartDelayMs).unref();
      restartDelayMs = Math.min(restartDelayMs * 2, 30_000);
      return;
    }
    if (remaining === 0) process.exit(failed ? 1 : 0);
  });

  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  logger.info({ workers: count, pid: process.pid }, `starting ${count} workers`);
  for (let i = 0; i < count; i += 1) fork();
}
