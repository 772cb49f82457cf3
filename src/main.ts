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
    config.databaseUrl ? null : `PostgreSQL (PGlite under ${config.dataDir})`,
    `dev mailbox (${config.dataDir}/mail)`,
  ].filter((part): part is string => part !== null);
  app.logger.info({ port, host: config.host, embedded, public_url: config.publicUrl }, `auth-service listening on ${config.host}:${port}`);
  // Honest about what this version does with them: the adapters for these come with later releases.
  const unused = (['redisUrl', 'amqpUrl', 'smtpUrl'] as const).filter((key) => config[key] !== null);
  if (unused.length > 0) app.logger.warn({ unused }, 'REDIS_URL/AMQP_URL/SMTP_URL are validated but not used by this version yet');

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
