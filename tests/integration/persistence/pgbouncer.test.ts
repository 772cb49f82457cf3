import { Client } from 'pg';
import { queueNames } from '@infrastructure/messaging/rabbitmq/amqp-event-subscriptions';
import { armQueryDeadline, createDataSource } from '@infrastructure/persistence/typeorm/data-source';
import { migrations } from '../../../migrations';
import { NO_LIMITS, PASSWORD, signUp, startTestApp, type TestApp } from '../../support/app';
import { eventually } from '../../support/events';
import { PGBOUNCER_SELECTED, startPgBouncer, type PgBouncer } from '../../support/pgbouncer';
import {
  REAL_AMQP_URL,
  REAL_POSTGRES_SELECTED,
  REAL_RABBIT_SELECTED,
  REAL_REDIS_SELECTED,
  REAL_REDIS_URL,
  TestConsumer,
  cleanupBroker,
  createScratchDatabase,
  describeWhen,
  dropKeyPrefix,
  uniqueKeyPrefix,
  uniqueNames,
} from '../../support/servers';

/** Server connections PgBouncer keeps to the database: far fewer than the service's pool (DATABASE_POOL_SIZE). */
const SERVER_CONNECTIONS = 2;
const SERVICE_POOL = 10;

/**
 * The service on PostgreSQL through PgBouncer in transaction pooling mode: consecutive transactions of one
 * service connection land on different server connections, so nothing may rely on session state (SET without
 * LOCAL, session advisory locks, LISTEN) or on named prepared statements: the service runs with
 * DATABASE_PREPARED_STATEMENTS=false, as the README tells PgBouncer users before 1.21 (Debian 12's is 1.18), so
 * its hot statements go unnamed like everything TypeORM sends.
 * Migrations, the e2e-critical flows, the concurrent paths (row locks under contention) and the outbox relay
 * (a claim transaction held while publishing) all run through it, and the query deadline's cancel request too.
 */
describeWhen(
  PGBOUNCER_SELECTED && REAL_POSTGRES_SELECTED && REAL_REDIS_SELECTED && REAL_RABBIT_SELECTED,
  'pgbouncer and the real PostgreSQL, Redis and RabbitMQ',
)('through PgBouncer in transaction pooling mode', () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let bouncer: PgBouncer;
  let consumer: TestConsumer;
  let t: TestApp;
  let direct: Client;
  const keyPrefix = uniqueKeyPrefix();
  const { exchange, queuePrefix } = uniqueNames();

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    bouncer = await startPgBouncer(scratch.url, { defaultPoolSize: SERVER_CONNECTIONS });
    consumer = await TestConsumer.start(exchange);
    // startTestApp sets MIGRATE_ON_START: the migrations run through PgBouncer too.
    t = await startTestApp({
      databaseUrl: bouncer.url,
      env: {
        ...NO_LIMITS,
        DATABASE_POOL_SIZE: String(SERVICE_POOL),
        DATABASE_PREPARED_STATEMENTS: 'false',
        REDIS_URL: REAL_REDIS_URL,
        REDIS_KEY_PREFIX: keyPrefix,
        AMQP_URL: REAL_AMQP_URL,
        AMQP_EXCHANGE: exchange,
        AMQP_QUEUE_PREFIX: queuePrefix,
      },
    });
    direct = new Client({ connectionString: scratch.url });
    await direct.connect();
  }, 60_000);

  afterAll(async () => {
    await t?.stop();
    await direct?.end();
    await consumer?.close();
    await bouncer?.stop();
    await scratch?.drop();
    await dropKeyPrefix(keyPrefix);
    await cleanupBroker(exchange, Object.values(queueNames(queuePrefix, 'security-notices')));
  });

  it('runs on a pgbouncer from the distribution, in transaction mode, and applied every migration through it', async () => {
    expect(bouncer.version).toMatch(/^PgBouncer \d+\.\d+/);
    const config = await bouncer.show('CONFIG');
    expect(config.find((row) => row.key === 'pool_mode')?.value).toBe('transaction');
    const applied = await direct.query<{ name: string }>('SELECT name FROM migrations');
    expect(applied.rows.map((r) => r.name).sort()).toEqual(migrations.map((m) => m.name).sort());
  });

  it('register -> verify link -> login -> me -> refresh with rotation -> reuse detected -> logout', async () => {
    const { tokens } = await signUp(t, 'bouncer@example.com');
    const me = await t.http.get('/api/v1/users/me').set('Authorization', `Bearer ${tokens.access_token}`).expect(200);
    expect(me.body.data.user.email).toBe('bouncer@example.com');

    const first = await t.http.post('/api/v1/auth/refresh').send({ refresh_token: tokens.refresh_token }).expect(200);
    expect(first.body.data.tokens.refresh_token).not.toBe(tokens.refresh_token);
    t.clock.advance(11); // past the grace window: the replaced token is now a reuse
    const reuse = await t.http.post('/api/v1/auth/refresh').send({ refresh_token: tokens.refresh_token });
    expect(reuse.status).toBe(401);
    expect(reuse.body.error.code).toBe('INVALID_REFRESH_TOKEN');
    const newest = await t.http.post('/api/v1/auth/refresh').send({ refresh_token: first.body.data.tokens.refresh_token });
    expect(newest.status).toBe(401);

    const again = await t.http.post('/api/v1/auth/login').send({ email: 'bouncer@example.com', password: PASSWORD }).expect(200);
    const access = again.body.data.tokens.access_token as string;
    await t.http.post('/api/v1/auth/logout').set('Authorization', `Bearer ${access}`).send({}).expect(200);
    await t.http.get('/api/v1/users/me').set('Authorization', `Bearer ${access}`).expect(401);
  }, 60_000);

  it('concurrent logins and concurrent refreshes of one token: more service connections than server connections', async () => {
    const { tokens, user } = await signUp(t, 'bouncer-race@example.com');
    const logins = await Promise.all(
      Array.from({ length: 10 }, () => t.http.post('/api/v1/auth/login').send({ email: 'bouncer-race@example.com', password: PASSWORD })),
    );
    expect(logins.map((r) => r.status)).toEqual(Array(10).fill(200));

    const refreshes = await Promise.all(
      Array.from({ length: 20 }, () => t.http.post('/api/v1/auth/refresh').send({ refresh_token: tokens.refresh_token })),
    );
    expect(refreshes.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(new Set(refreshes.map((r) => r.body.data.tokens.refresh_token as string)).size).toBe(1);
    const live = await direct.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND revoked_at IS NULL', [user.id]);
    expect(live.rows[0]!.n).toBe(11);

    // The service held more connections to PgBouncer than PgBouncer held to PostgreSQL: transactions were
    // multiplexed onto shared server connections, and none of the above broke.
    const database = new URL(scratch.url).pathname.slice(1);
    const clients = (await bouncer.show('CLIENTS')).filter((row) => row.database === database);
    const servers = (await bouncer.show('SERVERS')).filter((row) => row.database === database);
    expect(servers.length).toBeLessThanOrEqual(SERVER_CONNECTIONS);
    expect(clients.length).toBeGreaterThan(SERVER_CONNECTIONS);
    const stats = (await bouncer.show('STATS')).find((row) => row.database === database);
    expect(Number(stats?.total_xact_count)).toBeGreaterThan(50);
  }, 60_000);

  it('the outbox relay publishes every event once through it', async () => {
    await eventually(
      async () => Number((await direct.query<{ n: string }>('SELECT count(*) AS n FROM outbox_events WHERE published_at IS NULL')).rows[0]!.n) === 0,
      20_000,
      'the outbox drained',
    );
    const ids = (await direct.query<{ id: string }>('SELECT id FROM outbox_events')).rows.map((r) => r.id).sort();
    expect(ids.length).toBeGreaterThan(0);
    await eventually(() => consumer.received.length >= ids.length, 20_000, `${ids.length} events at the test's queue`);
    expect(consumer.ids().sort()).toEqual(ids);
    expect(consumer.ofType('auth.user.registered')).toHaveLength(2);
  }, 60_000);

  it('would catch a named prepared statement: this setup really moves a client between server connections', async () => {
    const a = new Client({ connectionString: bouncer.url });
    const b = new Client({ connectionString: bouncer.url });
    await a.connect();
    await b.connect();
    // The service's own background queries share the two server connections too: a round in which they
    // happened to hand a the same connection again proves nothing, so up to ten rounds, each with a new name.
    const outcomes: string[] = [];
    try {
      for (let round = 0; round < 10 && !outcomes.some((o) => o !== 'ran'); round += 1) {
        const name = `probe_${round}`;
        await a.query({ name, text: 'SELECT 1 AS one' }); // prepared on the server connection a had
        await b.query('BEGIN');
        await b.query('SELECT 1'); // b holds a server connection: usually the one a just released
        // pg sends only Bind/Execute for a statement it prepared: on another server connection it does not exist.
        outcomes.push(await a.query({ name, text: 'SELECT 1 AS one' }).then(() => 'ran', (error: Error) => error.message));
        await b.query('ROLLBACK');
      }
      expect(outcomes.at(-1)).toMatch(/prepared statement "probe_\d+" does not exist/);
    } finally {
      await b.query('ROLLBACK').catch(() => undefined);
      await a.end();
      await b.end();
    }
  });

  it('the query deadline cancels a statement held by a row lock through it: nothing changed, no backend left waiting', async () => {
    await direct.query('CREATE TABLE deadline_locked (id int PRIMARY KEY, v int NOT NULL)');
    await direct.query('INSERT INTO deadline_locked (id, v) VALUES (1, 0)');
    const dataSource = createDataSource({ url: bouncer.url, poolSize: 1, preparedStatements: false });
    await dataSource.initialize();
    armQueryDeadline(dataSource, 300);
    const locker = new Client({ connectionString: scratch.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT id FROM deadline_locked WHERE id = 1 FOR UPDATE');
      // PgBouncer forwards the cancel request (its own key for the client) to the server connection the client holds.
      await expect(dataSource.query('UPDATE deadline_locked SET v = 1 WHERE id = 1')).rejects.toThrow(/the query was cancelled/);
      const waiting = await direct.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
      expect(waiting.rows).toEqual([{ n: 0 }]);
    } finally {
      await locker.query('COMMIT');
      await locker.end();
      await dataSource.destroy();
    }
    expect((await direct.query('SELECT v FROM deadline_locked WHERE id = 1 FOR UPDATE')).rows).toEqual([{ v: 0 }]);
  });

  it('logged no protocol error (prepared statements, unsupported startup parameters)', () => {
    expect(bouncer.output()).not.toMatch(/prepared statement|unsupported startup parameter|server conn crashed/i);
  });
});
