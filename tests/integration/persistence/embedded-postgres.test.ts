import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '@infrastructure/persistence/embedded/embedded-postgres';
import { seedMigratedPgdata } from '../../support/pgdata-template';
import { createDataSource, runMigrations } from '@infrastructure/persistence/typeorm/data-source';
import { typeOrmRepositories } from '@infrastructure/persistence/typeorm/typeorm-unit-of-work';
import { aUser } from '../../support/mothers';
import { migrations } from '../../../migrations';
import { testRepositoryOptions } from '../../support/persistence';

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

  it('serves a postgres:// URL on a Unix socket in DATA_DIR and keeps committed data across stop and start', async () => {
    const first = await start();
    expect(first.embedded.url).toBe(`postgres://postgres@localhost/postgres?host=${encodeURIComponent(dataDir)}`);
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

  it('is reachable only by the owner: a socket in a 0700 DATA_DIR (narrowed from 0755), no TCP listener', async () => {
    await chmod(dataDir, 0o755);
    const before = listeningTcpSockets();
    const { dataSource } = await start();
    expect(listeningTcpSockets().filter((s) => !before.includes(s))).toEqual([]);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const socket = statSync(join(dataDir, '.s.PGSQL.5432'));
    expect(socket.isSocket()).toBe(true);
    expect(socket.mode & 0o777).toBe(0o600);
    await expect(dataSource.query('SELECT 1 AS one')).resolves.toEqual([{ one: 1 }]);
  });

  it('puts the socket in a private temporary directory when DATA_DIR is too long for a socket address', async () => {
    const deep = join(dataDir, 'd'.repeat(100));
    // A migrated cluster copied in: this test is about the socket's place, not about a first start (the first test's).
    await mkdir(deep);
    await seedMigratedPgdata(deep);
    const embedded = await startEmbeddedPostgres(deep);
    try {
      const host = decodeURIComponent(new URL(embedded.url).searchParams.get('host') ?? '');
      expect(host.startsWith(tmpdir())).toBe(true);
      expect(statSync(host).mode & 0o777).toBe(0o700);
      const dataSource = createDataSource({ url: embedded.url, poolSize: 1 });
      await dataSource.initialize();
      await dataSource.destroy();
    } finally {
      await embedded.stop();
    }
  });
});

/** "address:port" of every TCP socket this process listens on (Linux /proc; the worker thread shares the process). */
function listeningTcpSockets(): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // closed while listing
    }
  }
  const found: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const row of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = row.trim().split(/\s+/);
      // st 0A = LISTEN; column 9 is the inode.
      if (cols[3] === '0A' && inodes.has(cols[9] ?? '')) found.push(cols[1]!);
    }
  }
  return found;
}
