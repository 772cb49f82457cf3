import 'reflect-metadata';
import { DataSource, MigrationExecutor, type LoggerOptions, type Migration } from 'typeorm';
import { migrations } from '../../../../migrations';
import { typeOrmEntities } from './entities';
import { setPreparedStatements } from './prepared-query';
import { clientUnderDeadline, type QueryDeadline } from './query-deadline';

export interface DataSourceSettings {
  /** postgres://user:password@host:port/database (for embedded mode: the URL startEmbeddedPostgres returned). */
  url: string;
  /** Pool size; must be 1 for the embedded PGlite (one connection, queries serialised). */
  poolSize: number;
  logging?: LoggerOptions;
  /**
   * Named prepared statements for the hottest statements (prepared-query.ts); default true. False behind
   * PgBouncer before 1.21 in transaction mode (DATABASE_PREPARED_STATEMENTS=false) and for the embedded PGlite.
   */
  preparedStatements?: boolean;
  /**
   * The longest wait for a connection of the pool (a free one, or a new one's start-up), in ms; default none. The
   * serving process gives it its query deadline (DATABASE_QUERY_TIMEOUT): over a stalled link a new connection's
   * start-up would wait for ever too.
   */
  connectTimeoutMs?: number;
}

const deadlines = new WeakMap<DataSource, QueryDeadline>();

/** A DataSource for the service's schema; not yet connected: call `initialize()`, then `runMigrations()`. */
export function createDataSource(settings: DataSourceSettings): DataSource {
  const deadline: QueryDeadline = { ms: null };
  const dataSource = new DataSource({
    type: 'postgres',
    url: settings.url,
    poolSize: settings.poolSize,
    logging: settings.logging ?? false,
    entities: typeOrmEntities,
    migrations,
    migrationsTableName: 'migrations',
    // Ids are generated in code, so no uuid extension is needed; named for the day a column defaults to one.
    uuidExtension: 'pgcrypto',
    synchronize: false,
    migrationsRun: false,
    ...(settings.connectTimeoutMs === undefined ? {} : { connectTimeoutMS: settings.connectTimeoutMs }),
    // Every connection of the pool is a client whose queries keep a deadline once armQueryDeadline sets one.
    extra: { Client: clientUnderDeadline(deadline) },
  });
  deadlines.set(dataSource, deadline);
  setPreparedStatements(dataSource, settings.preparedStatements ?? true);
  return dataSource;
}

/**
 * From now on every query of `dataSource`'s pool answers within `ms` or fails, its connection destroyed (see
 * clientUnderDeadline). Armed by the serving process after its migrations, which may run longer.
 */
export function armQueryDeadline(dataSource: DataSource, ms: number): void {
  const deadline = deadlines.get(dataSource);
  if (deadline) deadline.ms = ms;
}

/** The advisory lock the migrations hold ("auth" in ASCII): one migrator at a time per database. */
export const MIGRATION_LOCK_KEY = 0x61757468;

/**
 * Applies pending migrations, all in one transaction that first takes a transaction-level advisory lock, and
 * returns the ones applied. Instances started together with MIGRATE_ON_START (a rolling deploy) wait for one
 * another: the first applies, the next find nothing pending. Until 2026-12-03 they raced, and one failed to start
 * with `relation "migrations" already exists` or a duplicate key (an outside review, 3 rounds in 3): TypeORM
 * creates its table and reads what was applied before its own transaction begins, so here those happen inside ours,
 * after the lock. Transaction-level, not a session's lock: behind PgBouncer in transaction mode a session lock
 * could be taken on one server connection and released on another.
 */
export async function runMigrations(dataSource: DataSource): Promise<Migration[]> {
  const runner = dataSource.createQueryRunner();
  try {
    await runner.startTransaction();
    try {
      await runner.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = 'all';
      const applied = await executor.executePendingMigrations();
      await runner.commitTransaction();
      return applied;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    }
  } finally {
    await runner.release();
  }
}

export interface SchemaState {
  /** The migrations table exists: `npm run migrate` has run on this database. */
  migrated: boolean;
  /** Migrations of this code not applied yet. */
  pending: string[];
  /** Migrations the database records as applied that this code does not know (a newer version ran on it). */
  unknown: string[];
}

/** What the database's migrations table says against this code's migrations. */
export async function schemaState(dataSource: DataSource): Promise<SchemaState> {
  const known = dataSource.migrations.map((m) => m.name ?? m.constructor.name);
  const [table] = (await dataSource.query("SELECT to_regclass('migrations') IS NOT NULL AS present")) as { present: boolean }[];
  if (table?.present !== true) return { migrated: false, pending: known, unknown: [] };
  const applied = new Set(((await dataSource.query('SELECT name FROM migrations')) as { name: string }[]).map((r) => r.name));
  return { migrated: true, pending: known.filter((name) => !applied.has(name)), unknown: [...applied].filter((name) => !known.includes(name)) };
}
