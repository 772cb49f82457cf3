import 'reflect-metadata';
import { DataSource, type LoggerOptions, type Migration } from 'typeorm';
import { migrations } from '../../../../migrations';
import { typeOrmEntities } from './entities';
import { setPreparedStatements } from './prepared-query';

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
}

/** A DataSource for the service's schema; not yet connected: call `initialize()`, then `runMigrations()`. */
export function createDataSource(settings: DataSourceSettings): DataSource {
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
  });
  setPreparedStatements(dataSource, settings.preparedStatements ?? true);
  return dataSource;
}

/** Applies pending migrations, all in one transaction, and returns the ones applied. */
export function runMigrations(dataSource: DataSource): Promise<Migration[]> {
  return dataSource.runMigrations({ transaction: 'all' });
}
