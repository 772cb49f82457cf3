import 'reflect-metadata';
import { resolve } from 'node:path';
import { openDatabase } from '@config/database';
import { ConfigError, loadConfig } from '@config/env';
import { createLogger } from '@infrastructure/logging/pino-logger';

const USAGE = 'usage: npm run migrate   (applies pending migrations; takes no arguments)\n';

/** `npm run migrate`: applies pending migrations to DATABASE_URL (or to the embedded database under DATA_DIR). */
async function main(argv: string[]): Promise<void> {
  // It takes no argument: a `--dry-run` (or any other) is refused before anything is applied, as the CLI refuses.
  if (argv.length > 0) {
    process.stderr.write(`unexpected argument: ${argv[0]}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const database = await openDatabase(config, resolve(config.dataDir), logger, { migrate: true });
  const pending = await database.dataSource.showMigrations();
  await database.close();
  process.stdout.write(pending ? 'migrations still pending\n' : 'database schema is up to date\n');
  process.exitCode = pending ? 1 : 0;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : `migrate failed: ${String(error)}`}\n`);
  process.exit(1);
});
