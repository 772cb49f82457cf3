import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '@infrastructure/persistence/embedded/embedded-postgres';
import { createDataSource, runMigrations } from '@infrastructure/persistence/typeorm/data-source';
import { typeOrmRepositories } from '@infrastructure/persistence/typeorm/typeorm-unit-of-work';
import { aUser } from './support/fixtures';
import { migrations } from '../../../migrations';
import { testRepositoryOptions } from '../../support/repository-options';

describe('startEmbeddedPostgres (PGlite over pglite-socket)', () => {
  let dataDir: string;
  let running: { embedded: EmbeddedPostgres; dataSource: DataSource } | null = null;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'auth-embedded-'));
  });
  afterEach(async () => {
    if (running) await stop();
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  async function start(): Promise<{ embedded: EmbeddedPostgres; dataSource: DataSource }> {
    const embedded = await startEmbeddedPostgres(dataDir);
    const dataSource = createDataSource({ url: embedded.url, poolSize: 1 });
    await dataSource.initialize();
    running = { embedded, dataSource };
    return running;
  }

  async function stop(): Promise<void> {
    if (!running) return;
    const { embedded, dataSource } = running;
    running = null;
    await dataSource.destroy();
    await embedded.stop();
  }

  it('serves a postgres:// URL on 127.0.0.1 and keeps committed data across stop and start', async () => {
    const first = await start();
    expect(first.embedded.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    await expect(runMigrations(first.dataSource)).resolves.toHaveLength(migrations.length);
    const user = aUser();
    await typeOrmRepositories(first.dataSource.manager, testRepositoryOptions()).users.add(user);
    await stop();
    expect(existsSync(join(dataDir, 'pgdata', 'PG_VERSION'))).toBe(true);

    const second = await start();
    await expect(runMigrations(second.dataSource)).resolves.toEqual([]); // schema already there
    const found = await typeOrmRepositories(second.dataSource.manager, testRepositoryOptions()).users.findById(user.id);
    expect(found?.toState()).toEqual(user.toState());
  });

  it('stops idempotently, and a stopped server refuses connections', async () => {
    const { embedded } = await start();
    await stop();
    await embedded.stop();
    const orphan = createDataSource({ url: embedded.url, poolSize: 1 });
    await expect(orphan.initialize()).rejects.toThrow();
  });

  it('rejects, instead of hanging, when PGlite cannot start', async () => {
    const broken = join(dataDir, 'broken');
    await mkdir(broken);
    await writeFile(join(broken, 'pgdata'), 'not a directory');
    await expect(startEmbeddedPostgres(broken)).rejects.toThrow(/embedded PostgreSQL/);
  });
});
