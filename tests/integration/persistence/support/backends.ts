import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { startEmbeddedPostgres } from '@infrastructure/persistence/embedded/embedded-postgres';
import { createDataSource, runMigrations } from '@infrastructure/persistence/typeorm/data-source';
import { REAL_DATABASE_URL as REAL_URL, REAL_POSTGRES_SELECTED } from '../../../support/postgres';

export interface TestDatabase {
  dataSource: DataSource;
  stop(): Promise<void>;
}

export interface Backend {
  name: string;
  /** Whether the backend serialises transactions through one connection (PGlite) or runs them in parallel. */
  poolSize: number;
  start(): Promise<TestDatabase>;
}


/** Real server: a throw-away schema per test file (parallel workers and repeated runs never collide). */
const realPostgres: Backend = {
  name: 'PostgreSQL server',
  poolSize: 10,
  async start() {
    const schema = `it_${randomBytes(6).toString('hex')}`;
    const admin = new Client({ connectionString: REAL_URL, connectionTimeoutMillis: 5000 });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    const url = new URL(REAL_URL);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const dataSource = createDataSource({ url: url.toString(), poolSize: 10 });
    const stop = async (): Promise<void> => {
      if (dataSource.isInitialized) await dataSource.destroy();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    };
    try {
      await dataSource.initialize();
      await runMigrations(dataSource);
    } catch (error) {
      await stop();
      throw error;
    }
    return { dataSource, stop };
  },
};

/** Embedded: PGlite in a fresh temporary directory, served over a local socket, one pooled connection. */
const pglite: Backend = {
  name: 'PGlite',
  poolSize: 1,
  async start() {
    const dir = await mkdtemp(join(tmpdir(), 'auth-pglite-'));
    const embedded = await startEmbeddedPostgres(dir);
    const dataSource = createDataSource({ url: embedded.url, poolSize: 1 });
    const stop = async (): Promise<void> => {
      if (dataSource.isInitialized) await dataSource.destroy();
      await embedded.stop();
      await rm(dir, { recursive: true, force: true });
    };
    try {
      await dataSource.initialize();
      await runMigrations(dataSource);
    } catch (error) {
      await stop();
      throw error;
    }
    return { dataSource, stop };
  },
};

export const backends: Backend[] = REAL_POSTGRES_SELECTED ? [realPostgres, pglite] : [pglite];
