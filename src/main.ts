// First: SIGTERM and SIGINT are caught from here on, before the other modules load (stop-signals.ts says why).
import { stopSignals } from '@config/stop-signals-caught';
import 'reflect-metadata';
import cluster from 'node:cluster';
import { type Application, createApplication } from '@config/application';
import { runPrimary, SHUTDOWN_LIMIT_MS } from '@config/cluster';
import { ConfigError, loadConfig } from '@config/env';
import type { Logger } from '@application/ports/logger';
import { createLogger } from '@infrastructure/logging/pino-logger';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const processLogger = createLogger(config.logLevel);
  exitOnUncaught(processLogger);
  // WORKERS>1: this process only forks and watches the workers, each of which runs this file again as a worker.
  if (config.workers > 1 && cluster.isPrimary) {
    // runPrimary listens for the signals itself, from now on: nothing can have arrived yet (no await so far).
    stopSignals.handleWith(() => undefined);
    runPrimary(processLogger, { workers: config.workers });
    return;
  }
  // A worker's every line says which worker wrote it (pino's base carries no pid here).
  const logger = cluster.isWorker ? createLogger(config.logLevel).child({ worker: cluster.worker?.id, pid: process.pid }) : processLogger;

  // Set once start-up is over (the application created and listening): until then a stop is only remembered.
  let app: Application | null = null;
  let stopping: string | null = null;
  const shutDown = (running: Application, signal: string) => {
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        running.logger.error({ err: error, signal }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  const stop = (signal: string) => {
    if (stopping !== null) return;
    stopping = signal;
    if (app) app.logger.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
    else logger.info({ signal }, 'stop requested during start-up: shutting down once start-up ends, without serving');
    // A stalled dependency (a database that holds its connections without answering) must not hold the shutdown
    // for ever: 10-12 s for requests (requestGraceMs), then the pools and workers, then the process goes regardless
    // (an outside review, 2026-11-30, saw it still up 240 s after SIGTERM with the database stalled). Counted from
    // the signal, start-up included: a start-up that hangs does not hold it either.
    setTimeout(() => {
      logger.error({ signal }, 'shutdown did not finish in 30 s (a dependency not answering?): exiting');
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS).unref();
    if (app) shutDown(app, signal);
  };
  // From the very start (the listeners exist since the first import): a SIGTERM during start-up (migrations, the
  // embedded database, keys, connections: seconds) was lost under PID 1 and killed the process uncleanly otherwise,
  // until an outside review (2026-12-05). It is now remembered: start-up finishes, then closes what it opened, serves
  // nothing and exits 0. A second signal is ignored, as during a shutdown.
  stopSignals.handleWith(stop);
  // A worker whose primary is gone (killed) stops too, instead of serving on unwatched.
  if (cluster.isWorker) process.on('disconnect', () => stop('primary disconnected'));

  const started = await createApplication(config, {
    logger: cluster.isWorker ? logger : undefined,
    clusterWorker: cluster.isWorker,
    // Read by start-up once, when its database and keys are ready, just before it starts the background work (the
    // outbox relay, the email sender, the account-request worker, the subscribers): a stop requested by then starts
    // none, and one after it all (each started part is closed by the shutdown).
    get background() {
      return stopping === null;
    },
  });
  if (stopping !== null) {
    started.logger.info({ signal: stopping }, 'start-up finished after a stop request: closing without serving');
    shutDown(started, stopping);
    return;
  }
  let port: number;
  try {
    port = await started.listen();
  } catch (error) {
    // The port taken (EADDRINUSE), a host not on this machine (EADDRNOTAVAIL), a low port without the right (EACCES):
    // start-up had opened the database and started the background work. Until 2026-12-07 the process exited at once,
    // leaving them as they were (the embedded DATA_DIR locked, PGlite not closed, the relay mid-publish): now they
    // are closed first, within the shutdown's limit, and the process exits 1.
    started.logger.error({ err: error, port: config.port, host: config.host }, `could not listen on ${config.host}:${config.port}: closing what start-up opened, then exiting`);
    setTimeout(() => process.exit(1), SHUTDOWN_LIMIT_MS).unref();
    await started.close(0).catch((closing: unknown) => started.logger.error({ err: closing }, 'closing after the failed listen failed'));
    process.exit(1);
  }
  app = started;
  if (stopping !== null) {
    // The signal came while the socket was being bound: it never said it listens, and closes now.
    started.logger.info({ signal: stopping }, 'start-up finished after a stop request: closing without serving');
    shutDown(started, stopping);
    return;
  }
  const embedded = [
    config.databaseUrl ? null : `PostgreSQL (PGlite under ${config.dataDir})`,
    config.smtpUrl ? null : `dev mailbox (${config.dataDir}/mail)`,
    config.redisUrl ? null : 'rate limits, lockout and session cache in process memory (one instance only)',
    config.amqpUrl ? null : 'events on an in-process bus (outbox still used; no other service receives them)',
  ].filter((part): part is string => part !== null);
  started.logger.info({ port, host: config.host, embedded, public_url: config.publicUrl }, `auth-service listening on ${config.host}:${port}`);
}

/**
 * A fault no handler caught (a promise rejected with nobody awaiting it, an exception thrown in a callback): one
 * line in the JSON log (`fatal: true`, the error and its stack), then exit 1 for the supervisor to restart, as Node
 * itself would do, but with the reason where the logs are read rather than as a bare stack on stderr (until
 * 2026-12-04: a CI run saw a connection cut by a process that might have crashed, and nothing said why).
 */
function exitOnUncaught(logger: Logger): void {
  const exit = (kind: string) => (error: unknown) => {
    logger.error({ err: error, fatal: true }, `${kind}: exiting`);
    process.exit(1);
  };
  process.on('uncaughtException', exit('uncaught exception'));
  process.on('unhandledRejection', exit('unhandled promise rejection'));
}

main().catch((error: unknown) => {
  process.stderr.write(`auth-service failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
