import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { startEmbeddedPostgres } from '@infrastructure/persistence/embedded/embedded-postgres';
import { createDataSource, runMigrations } from '@infrastructure/persistence/typeorm/data-source';

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

const REAL_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

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

/**
 * Synchronous so that describe.each can select backends at collection time: a child process tries to
 * connect. In CI an unreachable server stays selected, so its suite fails instead of vanishing.
 */
function realServerReachable(): boolean {
  const probe = `const { Client } = require(${JSON.stringify(require.resolve('pg'))});
    const c = new Client({ connectionString: process.env.PROBE_URL, connectionTimeoutMillis: 3000 });
    c.connect().then(() => c.end()).then(() => process.exit(0), () => process.exit(1));`;
  try {
    execFileSync(process.execPath, ['-e', probe], { env: { ...process.env, PROBE_URL: REAL_URL }, stdio: 'ignore', timeout: 10000 });
    return true;
  } catch {
    return false;
  }
}

function selectBackends(): Backend[] {
  if (realServerReachable() || process.env.CI === 'true') return [realPostgres, pglite];
  console.warn(`PostgreSQL at ${REAL_URL.replace(/\/\/[^@]*@/, '//***@')} is unreachable: running against PGlite only (set CI=true to fail instead).`);
  return [pglite];
}

export const backends: Backend[] = selectBackends();
