import 'reflect-metadata';
import { DataSource, type LoggerOptions, type Migration } from 'typeorm';
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

/** Applies pending migrations, all in one transaction, and returns the ones applied. */
export function runMigrations(dataSource: DataSource): Promise<Migration[]> {
  return dataSource.runMigrations({ transaction: 'all' });
}
