import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { createApplication, type Application } from '@config/application';
import { loadConfig } from '@config/env';
import { InMemoryMailer } from '@infrastructure/email/memory/in-memory-mailer';
import { createLogger } from '@infrastructure/logging/pino-logger';
import { createDataSource, runMigrations, schemaState } from '@infrastructure/persistence/typeorm/data-source';
import { migrations } from '../../migrations';
import { CHEAP_HASHING } from '../support/app';
import { createScratchDatabase, describeWhen, REAL_POSTGRES_SELECTED } from '../support/servers';

/**
 * Outside review, 2026-12-05: new code started on a database one migration behind (MIGRATE_ON_START=false, the
 * migration Job not run): /health/ready answered 200 while every sign-up answered 500 (`column ... does not exist`).
 * Readiness now answers 503 `schema: behind` while this version has migrations the database has not applied, and
 * re-reads the schema (at most once per interval) so that the instance becomes ready once they have run, without a
 * restart; liveness stays 200 meanwhile (no restart loop while it waits for the migration).
 */
const RECHECK_MS = 200;

describeWhen(REAL_POSTGRES_SELECTED, 'PostgreSQL')('readiness on a database whose schema is behind this version', () => {
  let scratch: { url: string; drop(): Promise<void> };
  let source: DataSource;
  let dataDir: string;
  let app: Application | null = null;
  const lines: { level: string; msg: string }[] = [];

  const start = async () => {
    const config = loadConfig({
      NODE_ENV: 'test',
      PORT: '0',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      APP_PUBLIC_URL: 'https://app.example.com',
      JWT_ISSUER: 'https://auth.example.com',
      JWT_AUDIENCE: 'example-api',
      DATABASE_URL: scratch.url,
      MIGRATE_ON_START: 'false',
      ...CHEAP_HASHING,
    });
    const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line) as { level: string; msg: string }) });
    app = await createApplication(config, { mailer: new InMemoryMailer(), logger, schemaRecheckMs: RECHECK_MS });
    return request(app.http.callback());
  };

  beforeEach(async () => {
    lines.length = 0;
    scratch = await createScratchDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'auth-schema-ready-'));
    source = createDataSource({ url: scratch.url, poolSize: 1 });
    await source.initialize();
    await runMigrations(source);
  }, 60_000);

  afterEach(async () => {
    await app?.close();
    app = null;
    if (source?.isInitialized) await source.destroy();
    await scratch?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is 503 `schema: behind` (liveness 200) until the migrations run, then ready without a restart', async () => {
    // The newest migration undone: its columns dropped (down()) and its row removed from the migrations table.
    const newest = new migrations[migrations.length - 1]!().name!;
    await source.undoLastMigration({ transaction: 'all' });
    await expect(schemaState(source)).resolves.toMatchObject({ migrated: true, pending: [newest] });

    const http = await start();
    // The start still says so in the log.
    expect(lines.find((l) => l.msg.startsWith('the database schema is behind this version'))?.level).toBe('warn');

    const ready = await http.get('/health/ready');
    expect({ status: ready.status, body: ready.body }).toEqual({
      status: 503,
      body: { status: 'unavailable', checks: { database: 'up', cache: 'up', broker: 'up' }, schema: 'behind', pending_migrations: 1 },
    });
    expect(ready.headers['cache-control']).toBe('no-store');
    const live = await http.get('/health/live');
    expect({ status: live.status, body: live.body }).toEqual({ status: 200, body: { status: 'ok', checks: { database: 'up', cache: 'up', broker: 'up' } } });
    // Still behind on the next probes (cached or re-read, the same answer).
    await http.get('/health/ready').expect(503);

    // What `npm run migrate` (the Deployment's init container) runs, from elsewhere.
    await expect(runMigrations(source).then((applied) => applied.map((m) => m.name))).resolves.toEqual([newest]);
    const migratedAt = Date.now();
    let after = await http.get('/health/ready');
    while (after.status !== 200 && Date.now() - migratedAt < RECHECK_MS * 10) {
      await new Promise((resolve) => setTimeout(resolve, RECHECK_MS / 4));
      after = await http.get('/health/ready');
    }
    expect({ status: after.status, body: after.body }).toEqual({ status: 200, body: { status: 'ok', checks: { database: 'up', cache: 'up', broker: 'up' } } });
    expect(Date.now() - migratedAt).toBeLessThan(RECHECK_MS * 10);
    expect(lines.some((l) => l.level === 'info' && l.msg.startsWith('the database schema is now up to date'))).toBe(true);
    // And what the missing migration's code needs works.
    await http.post('/api/v1/auth/register').send({ email: 'after@example.com', password: 'correct horse battery staple' }).expect(202);
  }, 60_000);

  it('stays ready on a database a newer version migrated (its old instances keep serving during a rolling update)', async () => {
    await source.query(`INSERT INTO migrations ("timestamp", name) VALUES (1799999999999, 'FutureThing1799999999999')`);
    const http = await start();
    const ready = await http.get('/health/ready');
    expect({ status: ready.status, body: ready.body }).toEqual({ status: 200, body: { status: 'ok', checks: { database: 'up', cache: 'up', broker: 'up' } } });
  }, 60_000);
});
