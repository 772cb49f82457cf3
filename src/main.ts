import 'reflect-metadata';
import cluster from 'node:cluster';
import { resolve } from 'node:path';
import { createApplication } from '@config/application';
import { openDatabase } from '@config/database';
import { ConfigError, loadConfig } from '@config/env';
import { runPrimary } from '@config/workers';
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
  if (config.workers > 1 && cluster.isPrimary) {
    const logger = createLogger(config.logLevel);
    // Once, here: workers migrating at the same time would race on the same DDL.
    if (config.migrateOnStart) await (await openDatabase(config, resolve(config.dataDir), logger, { migrate: true })).close();
    runPrimary(config.workers, logger, { MIGRATE_ON_START: 'false' });
    return;
  }
  const app = await createApplication(config);
  const port = await app.listen();
  const embedded = [
    config.databaseUrl ? null : `PostgreSQL (PGlite under ${config.dataDir})`,
    config.smtpUrl ? null : `dev mailbox (${config.dataDir}/mail)`,
    config.redisUrl ? null : 'rate limits, lockout and session cache in process memory (one instance only)',
    config.amqpUrl ? null : 'events on an in-process bus (outbox still used; no other service receives them)',
  ].filter((part): part is string => part !== null);
  app.logger.info(
    { port, host: config.host, embedded, public_url: config.publicUrl, ...(cluster.isWorker ? { worker: cluster.worker?.id } : {}) },
    `auth-service listening on ${config.host}:${port}`,
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`auth-service failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
