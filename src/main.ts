import 'reflect-metadata';
import { createApplication } from '@config/application';
import { ConfigError, loadConfig } from '@config/env';

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
  const app = await createApplication(config);
  const port = await app.listen();
  const embedded = [
    config.databaseUrl ? null : 'PostgreSQL (PGlite under DATA_DIR)',
    config.redisUrl ? null : 'cache and rate limits in memory',
    config.amqpUrl ? null : 'in-process event bus',
    config.smtpUrl ? null : `dev mailbox (${config.dataDir}/mail)`,
  ].filter((part): part is string => part !== null);
  app.logger.info(
    { port, host: config.host, embedded, public_url: config.publicUrl },
    embedded.length > 0 ? `auth-service listening (embedded: ${embedded.join('; ')})` : 'auth-service listening',
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
