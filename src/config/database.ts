import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { startEmbeddedPostgres } from '@infrastructure/persistence/embedded/embedded-postgres';
import { armQueryDeadline, createDataSource, runMigrations, schemaState } from '@infrastructure/persistence/typeorm/data-source';
import { lockDataDir } from './data-dir-lock';
import type { AppConfig } from './env';

export interface Database {
  dataSource: DataSource;
  embedded: boolean;
  close(): Promise<void>;
}

/**
 * The configured PostgreSQL, or the embedded one under `dataDir` when DATABASE_URL is unset. Migrations run
 * here in embedded mode (nobody else can run them) and with MIGRATE_ON_START, or when `migrate` is forced.
 *
 * `queryDeadline` (the serving process): with DATABASE_URL, once the migrations are done, every query answers
 * within DATABASE_QUERY_TIMEOUT or its connection is destroyed (the server rolls back its transaction), and a
 * connection of the pool is had within the same time, so that a stalled link (packets dropped, nothing reset)
 * answers 503 instead of holding requests for as long as it lasts. Not for migrations, `npm run migrate` or the
 * CLI (purge-expired's batches, run by an operator, may rightly take longer; they get the connect timeout only), nor
 * for the embedded PGlite: no link to stall, one session whose slow statement a deadline would not make faster.
 */
export async function openDatabase(
  config: AppConfig,
  dataDir: string,
  logger: Logger,
  options: { migrate?: boolean; queryDeadline?: boolean } = {},
): Promise<Database> {
  const unlock = config.databaseUrl === null ? lockDataDir(dataDir) : () => undefined;
  const embedded =
    config.databaseUrl === null
      ? await startEmbeddedPostgres(dataDir, { onError: (error) => logger.error({ err: error }, 'embedded PostgreSQL failed') }).catch(
          (error: unknown) => {
            unlock();
            throw error;
          },
        )
      : null;
  const deadline = embedded === null && options.queryDeadline === true;
  const dataSource = createDataSource({
    url: embedded?.url ?? config.databaseUrl!,
    poolSize: embedded ? 1 : config.databasePoolSize,
    preparedStatements: embedded === null && config.databasePreparedStatements,
    // A connection is had within DATABASE_QUERY_TIMEOUT or not at all, for the migrations and the CLI too (their
    // queries have no deadline: a batch may rightly run long; connecting may not). Until stop 51 `npm run migrate`
    // over a link that accepts and never answers waited for ever, and a hung init container is never restarted
    // (a review of stop 50).
    ...(embedded === null ? { connectTimeoutMs: config.databaseQueryTimeoutMs } : {}),
  });
  try {
    await dataSource.initialize();
    if (embedded || config.migrateOnStart || options.migrate) {
      const applied = await runMigrations(dataSource);
      if (applied.length > 0) logger.info({ migrations: applied.map((m) => m.name) }, 'migrations applied');
    }
    // Said plainly (an outside review, 2026-12-03: an unmigrated database failed with `relation "signing_keys" does
    // not exist`, and a database a newer version had migrated was called up to date).
    const schema = await schemaState(dataSource);
    if (!schema.migrated) throw new Error('the database has no schema yet: run `npm run migrate` first (or set MIGRATE_ON_START=true)');
    if (schema.pending.length > 0) logger.warn({ migrations: schema.pending }, 'the database schema is behind this version: run `npm run migrate`');
    if (schema.unknown.length > 0) logger.warn({ migrations: schema.unknown }, 'the database has migrations this version does not know: a newer version ran on it');
    if (deadline) armQueryDeadline(dataSource, config.databaseQueryTimeoutMs);
  } catch (error) {
    // The start-up's error is the one to report: a failing clean-up neither replaces it nor skips the unlock.
    if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    unlock();
    throw error;
  }
  return {
    dataSource,
    embedded: embedded !== null,
    async close() {
      // Each whatever became of the one before (the DATA_DIR's lock most of all).
      try {
        await dataSource.destroy();
      } finally {
        try {
          await embedded?.stop();
        } finally {
          unlock();
        }
      }
    },
  };
}
