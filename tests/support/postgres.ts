import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** The real server of the integration and e2e suites (CI sets DATABASE_URL). */
export const REAL_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let reachable: Promise<boolean> | undefined;

/**
 * Whether the real PostgreSQL answers. In CI a missing server is a failure, never a skip: this throws there.
 * Elsewhere the caller leaves out the real-server cases and says so.
 */
export function realPostgresAvailable(): Promise<boolean> {
  reachable ??= (async () => {
    const client = new Client({ connectionString: REAL_DATABASE_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch (error) {
      if (process.env.CI === 'true') throw new Error(`PostgreSQL at DATABASE_URL is required in CI: ${String(error)}`);
      process.stderr.write(`[tests] real PostgreSQL not reachable; its cases are left out (${String(error)})\n`);
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return reachable;
}

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
