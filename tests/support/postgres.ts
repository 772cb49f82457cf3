import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { selectRealServer } from './server-selection';

/** The real server of the integration and e2e suites (CI sets DATABASE_URL). */
export const REAL_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A throw-away database on the real server; `drop()` removes it. */
export async function createScratchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `auth_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: REAL_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(REAL_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new Client({ connectionString: REAL_DATABASE_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}


export const REAL_POSTGRES_SELECTED: boolean = selectRealServer('PostgreSQL', REAL_DATABASE_URL, `const { Client } = require(${JSON.stringify(require.resolve('pg'))});
    const c = new Client({ connectionString: process.env.PROBE_URL, connectionTimeoutMillis: 3000 });
    c.connect().then(() => c.end()).then(() => process.exit(0), () => process.exit(1));`);
