import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { armQueryDeadline, createDataSource } from '@infrastructure/persistence/typeorm/data-source';
import { DatabaseStallError } from '@infrastructure/persistence/typeorm/query-deadline';
import { createScratchDatabase, describeWhen, REAL_DATABASE_URL, REAL_POSTGRES_SELECTED } from '../../support/servers';
import { TcpProxy } from '../../support/tcp-proxy';

const DEADLINE_MS = 300;

/**
 * pg's query_timeout leaves a stalled query on its connection and the connection in the pool; the pool's client
 * under armQueryDeadline destroys the connection instead: the query fails within the deadline, the pool discards
 * the client, and the server rolls back the transaction the connection held.
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

  it('a stalled query fails within the deadline, its connection leaves the pool, and the pool works again after', async () => {
    armQueryDeadline(dataSource, DEADLINE_MS);
    await expect(dataSource.query('SELECT 1 AS one')).resolves.toEqual([{ one: 1 }]);
    proxy.stall();
    const started = Date.now();
    const failure = await dataSource.query('SELECT 2').then(() => null, (error: unknown) => error);
    const elapsed = Date.now() - started;
    expect((failure as { driverError?: unknown }).driverError).toBeInstanceOf(DatabaseStallError);
    expect(elapsed).toBeGreaterThanOrEqual(DEADLINE_MS - 20);
    expect(elapsed).toBeLessThan(DEADLINE_MS + 1000);
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
