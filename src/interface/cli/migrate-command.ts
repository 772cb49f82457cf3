import { resolve } from 'node:path';
import { openDatabase } from '@config/database';
import { ConfigError, loadConfig } from '@config/env';
import { createLogger } from '@infrastructure/logging/pino-logger';
import { failureLine, shownArgument, type CliIo } from './cli-io';

const USAGE = 'usage: npm run migrate   (applies pending migrations; takes no arguments)\n';

/**
 * `npm run migrate` as a function (the tests run it in process): applies pending migrations to DATABASE_URL, or
 * to the embedded database under DATA_DIR. Exit code 0 when the schema is up to date afterwards, 1 when some are
 * still pending or it failed (why, on stderr), 2 for any argument: a `--dry-run` is refused before anything is
 * applied, as the CLI refuses.
 */
export async function runMigrate(argv: readonly string[], io: CliIo): Promise<number> {
  if (argv.length > 0) {
    io.stderr.write(`unexpected ${shownArgument(argv[0], 1)}\n\n${USAGE}`);
    return 2;
  }
  try {
    const config = loadConfig(io.env);
    const logger = createLogger(config.logLevel, io.stdout);
    const database = await openDatabase(config, resolve(config.dataDir), logger, { migrate: true });
    const pending = await database.dataSource.showMigrations();
    await database.close();
    io.stdout.write(pending ? 'migrations still pending\n' : 'database schema is up to date\n');
    return pending ? 1 : 0;
  } catch (error) {
    io.stderr.write(`${error instanceof ConfigError ? error.oneLine : failureLine('migrate', error)}\n`);
    return 1;
  }
}
