import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { armQueryDeadline, createDataSource } from '@infrastructure/persistence/typeorm/data-source';
import { openDatabase } from '@config/database';
import { loadConfig } from '@config/env';
import { createLogger } from '@infrastructure/logging/pino-logger';
import { CANCEL_GRACE_MS, DatabaseStallError } from '@infrastructure/persistence/typeorm/query-deadline';
import { createScratchDatabase, describeWhen, REAL_DATABASE_URL, REAL_POSTGRES_SELECTED } from '../../support/servers';
import { TcpProxy } from '../../support/tcp-proxy';

const DEADLINE_MS = 300;

/**
 * pg's query_timeout leaves a stalled query on its connection and the connection in the pool; the pool's client
 * under armQueryDeadline asks the server to cancel it instead and waits CANCEL_GRACE_MS for its reply: a reply is
 * definitive (a cancelled statement did nothing, a finished one resolves); without one (a stalled link) the
 * connection is destroyed: the query fails, the pool discards the client, and the server rolls back the
 * transaction the connection held.
 */
describeWhen(REAL_POSTGRES_SELECTED, 'PostgreSQL')('queries under a deadline', () => {
  let proxy: TcpProxy;
  let scratch: { url: string; drop(): Promise<void> };
  let dataSource: DataSource;
  let direct: Client;

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    direct = new Client({ connectionString: scratch.url });
    await direct.connect();
    await direct.query('CREATE TABLE deadline_probe (id int PRIMARY KEY)');
    await direct.query('CREATE TABLE deadline_locked (id int PRIMARY KEY, v int NOT NULL)');
    await direct.query('INSERT INTO deadline_locked (id, v) VALUES (1, 0)');
  });
  afterAll(async () => {
    await direct?.end();
    await scratch?.drop();
  });
  beforeEach(async () => {
    const target = new URL(REAL_DATABASE_URL);
    proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    await proxy.start();
    dataSource = createDataSource({ url: proxy.through(scratch.url), poolSize: 2, connectTimeoutMs: DEADLINE_MS });
    await dataSource.initialize();
  });
  afterEach(async () => {
    proxy.restore();
    if (dataSource.isInitialized) await dataSource.destroy();
    await proxy.close();
  });

  const pool = () => (dataSource.driver as unknown as { master: { totalCount: number } }).master;

  it('a stalled query fails within the deadline and the grace, its connection leaves the pool, and the pool works again after', async () => {
    armQueryDeadline(dataSource, DEADLINE_MS);
    await expect(dataSource.query('SELECT 1 AS one')).resolves.toEqual([{ one: 1 }]);
    proxy.stall();
    const started = Date.now();
    const failure = await dataSource.query('SELECT 2').then(() => null, (error: unknown) => error);
    const elapsed = Date.now() - started;
    expect((failure as { driverError?: unknown }).driverError).toBeInstanceOf(DatabaseStallError);
    // The cancel request goes unanswered too; the query's reply is awaited for the grace, then the socket destroyed.
    expect(elapsed).toBeGreaterThanOrEqual(DEADLINE_MS + CANCEL_GRACE_MS - 20);
    expect(elapsed).toBeLessThan(DEADLINE_MS + CANCEL_GRACE_MS + 1000);
    expect(pool().totalCount).toBe(0);
    // A new connection over the stalled link is given up too (connectTimeoutMs), not waited for.
    await expect(dataSource.query('SELECT 3')).rejects.toThrow(/timeout/);

    proxy.restore();
    await expect(dataSource.query('SELECT 4 AS four')).resolves.toEqual([{ four: 4 }]);
  });

  it('a transaction whose connection is destroyed fails and leaves nothing behind, its COMMIT stalled too', async () => {
    armQueryDeadline(dataSource, DEADLINE_MS);
    const midway = dataSource.transaction(async (manager) => {
      await manager.query('INSERT INTO deadline_probe (id) VALUES (1)');
      proxy.stall();
      await manager.query('INSERT INTO deadline_probe (id) VALUES (2)');
    });
    await expect(midway).rejects.toThrow(/no answer within/);
    proxy.restore();
    const atCommit = dataSource.transaction(async (manager) => {
      await manager.query('INSERT INTO deadline_probe (id) VALUES (3)');
      proxy.stall(); // the COMMIT that follows gets no answer
    });
    await expect(atCommit).rejects.toThrow(/no answer within/);
    expect((await direct.query('SELECT id FROM deadline_probe')).rows).toEqual([]);
    proxy.restore();
    await dataSource.transaction((manager) => manager.query('INSERT INTO deadline_probe (id) VALUES (4)'));
    expect((await direct.query('SELECT id FROM deadline_probe')).rows).toEqual([{ id: 4 }]);
    await direct.query('DELETE FROM deadline_probe');
  });

  it('a statement waiting on a lock past the deadline is cancelled on the server: it changes nothing, leaves no backend waiting, and its connection stays', async () => {
    armQueryDeadline(dataSource, DEADLINE_MS);
    await expect(dataSource.query('SELECT 1 AS one')).resolves.toEqual([{ one: 1 }]);
    const locker = new Client({ connectionString: scratch.url });
    await locker.connect();
    const waitingOnLocks = async () =>
      (await direct.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")).rows[0]!.n;
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT id FROM deadline_locked WHERE id = 1 FOR UPDATE');

      // Autocommit: a backend left waiting would commit the UPDATE once the lock goes, after the caller's 503.
      const started = Date.now();
      const failure = await dataSource.query('UPDATE deadline_locked SET v = 1 WHERE id = 1').then(() => null, (error: unknown) => error);
      const elapsed = Date.now() - started;
      expect((failure as { driverError?: unknown }).driverError).toBeInstanceOf(DatabaseStallError);
      expect(await waitingOnLocks()).toBe(0);
      expect(String((failure as Error).message)).toMatch(/no answer within \d+ ms; the query was cancelled/);
      // The server's reply (57014) came at once: no grace spent, the connection kept.
      expect(elapsed).toBeGreaterThanOrEqual(DEADLINE_MS - 20);
      expect(elapsed).toBeLessThan(DEADLINE_MS + CANCEL_GRACE_MS);
      expect(pool().totalCount).toBe(1);

      // In a transaction: the cancelled statement fails it, TypeORM rolls back, the connection serves on.
      const inTransaction = dataSource.transaction(async (manager) => {
        await manager.query('INSERT INTO deadline_probe (id) VALUES (7)');
        await manager.query('UPDATE deadline_locked SET v = 2 WHERE id = 1');
      });
      await expect(inTransaction).rejects.toThrow(/the query was cancelled/);
      expect(await waitingOnLocks()).toBe(0);
      expect(pool().totalCount).toBe(1);
      await expect(dataSource.query('SELECT 2 AS two')).resolves.toEqual([{ two: 2 }]);
    } finally {
      await locker.query('COMMIT');
      await locker.end();
    }
    // Had a backend still waited, it would have taken the lock first, and this would read its change.
    expect((await direct.query('SELECT v FROM deadline_locked WHERE id = 1 FOR UPDATE')).rows).toEqual([{ v: 0 }]);
    expect((await direct.query('SELECT id FROM deadline_probe')).rows).toEqual([]);
  });

  it('a statement done on the server whose reply comes during the grace resolves: the write happened, and the caller is told so', async () => {
    // A slow link, no slower server: each way takes the deadline, so the reply comes one deadline after it expired.
    proxy.slow(DEADLINE_MS);
    const slow = createDataSource({ url: proxy.through(scratch.url), poolSize: 1 });
    await slow.initialize();
    armQueryDeadline(slow, DEADLINE_MS);
    try {
      const started = Date.now();
      await expect(slow.query('INSERT INTO deadline_probe (id) VALUES (8) RETURNING id')).resolves.toEqual([{ id: 8 }]);
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(2 * DEADLINE_MS - 20);
      expect(elapsed).toBeLessThan(DEADLINE_MS + CANCEL_GRACE_MS);
      // The cancel request met an idle backend: the connection stays, and its next statement is not cancelled.
      await expect(slow.query('SELECT 3 AS three')).resolves.toEqual([{ three: 3 }]);
      expect((slow.driver as unknown as { master: { totalCount: number } }).master.totalCount).toBe(1);
      expect((await direct.query('SELECT id FROM deadline_probe')).rows).toEqual([{ id: 8 }]);
    } finally {
      await slow.destroy();
      await direct.query('DELETE FROM deadline_probe');
    }
  });

  it('runs without a deadline until armed (migrations, the CLI), and lets in a reply that came while the event loop was busy', async () => {
    const slow = `SELECT 1 AS done FROM pg_sleep(${(DEADLINE_MS * 2) / 1000})`;
    await expect(dataSource.query(slow)).resolves.toEqual([{ done: 1 }]);
    armQueryDeadline(dataSource, DEADLINE_MS);
    await expect(dataSource.query(slow)).rejects.toThrow(/no answer within/);

    // Straight to the server: the proxy runs in this process and would itself wait for the loop to forward the reply.
    const straight = createDataSource({ url: scratch.url, poolSize: 1 });
    await straight.initialize();
    armQueryDeadline(straight, DEADLINE_MS);
    const runner = straight.createQueryRunner();
    try {
      const client = (await runner.connect()) as Client;
      const answer = client.query('SELECT 5 AS five'); // written to the socket now, its deadline running
      const busyUntil = Date.now() + DEADLINE_MS * 2;
      while (Date.now() < busyUntil) {
        // The reply arrives meanwhile; the deadline's timer fires late, in the same turn of the loop as it is read.
      }
      await expect(answer).resolves.toMatchObject({ rows: [{ five: 5 }] });
    } finally {
      await runner.release();
      await straight.destroy();
    }
  });
});

/**
 * A review of stop 50: the migrations (`npm run migrate`, the Deployment's init container) had no connect timeout, so
 * over a link that accepts and never answers they waited for ever, and a hung init container is never restarted.
 * Connecting now fails within DATABASE_QUERY_TIMEOUT there too (the migrations' queries keep no deadline).
 */
describeWhen(REAL_POSTGRES_SELECTED, 'PostgreSQL')('opening the database for the migrations over a stalled link', () => {
  it('fails within DATABASE_QUERY_TIMEOUT instead of waiting for ever', async () => {
    const target = new URL(REAL_DATABASE_URL);
    const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    await proxy.start();
    proxy.stall();
    try {
      const config = loadConfig({ DATABASE_URL: proxy.through(REAL_DATABASE_URL), DATABASE_QUERY_TIMEOUT: '1s' });
      const started = Date.now();
      const opened = openDatabase(config, '/nonexistent-unused', createLogger('silent'), { migrate: true });
      await expect(opened).rejects.toThrow(/timeout/i);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      proxy.restore();
      await proxy.close();
    }
  }, 20_000);
});
