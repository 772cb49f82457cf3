import 'reflect-metadata';
import { resolve } from 'node:path';
import { openDatabase } from '@config/database';
import { ConfigError, loadConfig } from '@config/env';
import { createLogger } from '@infrastructure/logging/pino-logger';

/** `npm run migrate`: applies pending migrations to DATABASE_URL (or to the embedded database under DATA_DIR). */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const database = await openDatabase(config, resolve(config.dataDir), logger, { migrate: true });
  const pending = await database.dataSource.showMigrations();
  await database.close();
  process.stdout.write(pending ? 'migrations still pending\n' : 'database schema is up to date\n');
  process.exitCode = pending ? 1 : 0;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : `migrate failed: ${String(error)}`}\n`);
  process.exit(1);
});
