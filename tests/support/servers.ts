/**
 * The real servers of the integration, e2e and security suites (CI sets their URLs): whether each is selected,
 * and throw-away places on them (a scratch database or schema, a Redis key prefix, exchange and queue names).
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { Client } from 'pg';
import { createClient } from 'redis';
import type { DataSource } from 'typeorm';
import type { IntegrationEvent } from '@application/ports/event-publisher';
import type { DomainEvent } from '@domain/shared/domain-event';
import { RedisKeys } from '@infrastructure/cache/redis/redis-keys';
import { createDataSource, runMigrations } from '@infrastructure/persistence/typeorm/data-source';
import { TypeOrmOutboxWriter } from '@infrastructure/persistence/typeorm/outbox-writer';
import { hashMigrations } from './pgdata-template';

// ---------------------------------------------------------------------------------------------- selection

/**
 * Whether a suite that needs a real server runs: decided synchronously, so that describe.each can choose at
 * collection time. A child process runs `probe` (JS that exits 0 when the server answers, with the URL in
 * PROBE_URL). In CI the server is always selected, so an unreachable one fails its suites instead of vanishing;
 * elsewhere its cases are left out with a warning. So under CI=true there is nothing to probe (it cost each suite
 * about 0.6 s: three child processes, one per server, before its first test).
 */
export function selectRealServer(name: string, url: string, probe: string): boolean {
  if (process.env.CI === 'true') return true;
  try {
    execFileSync(process.execPath, ['-e', probe], { env: { ...process.env, PROBE_URL: url }, stdio: 'ignore', timeout: 10000 });
    return true;
  } catch {
    const shown = url.replace(/\/\/[^@]*@/, '//***@');
    process.stderr.write(`[tests] ${name} at ${shown} is unreachable: its cases are left out (CI=true fails instead)\n`);
    return false;
  }
}

/**
 * `describe` when the suite's real servers were selected; otherwise a suite with one test that says it was left
 * out (jest needs at least one test per file). Outside CI only: in CI the servers are always selected.
 */
export function describeWhen(selected: boolean, servers: string): (name: string, body: () => void) => void {
  if (selected) return (name, body) => describe(name, body);
  return (name) =>
    describe(name, () => {
      it(`is left out here: it needs ${servers} (CI=true runs it)`, () => {
        expect(selected).toBe(false);
      });
    });
}

// ---------------------------------------------------------------------------------------------- PostgreSQL

/** The real server of the integration and e2e suites (CI sets DATABASE_URL). */
export const REAL_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export const REAL_POSTGRES_SELECTED: boolean = selectRealServer('PostgreSQL', REAL_DATABASE_URL, `const { Client } = require(${JSON.stringify(require.resolve('pg'))});
    const c = new Client({ connectionString: process.env.PROBE_URL, connectionTimeoutMillis: 3000 });
    c.connect().then(() => c.end()).then(() => process.exit(0), () => process.exit(1));`);

/**
 * A throw-away database on the real server; `drop()` removes it. `migrated`: a copy of a database the migrations
 * already ran on (see migratedTemplateDatabase), for apps whose start would otherwise run them all.
 */
export async function createScratchDatabase(options: { cLocale?: boolean; migrated?: boolean } = {}): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `auth_test_${randomBytes(6).toString('hex')}`;
  const template = options.migrated ? await migratedTemplateDatabase() : null;
  const admin = new Client({ connectionString: REAL_DATABASE_URL });
  await admin.connect();
  try {
    // cLocale: the plain C locale, where ILIKE and lower() fold ASCII letters only (C.UTF-8 folds them all).
    if (options.cLocale) await admin.query(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`);
    else await admin.query(template ? `CREATE DATABASE ${name} TEMPLATE ${template}` : `CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
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

/**
 * A database the migrations ran on, made once (per set of migrations) and copied by CREATE DATABASE ... TEMPLATE:
 * the in-process apps of the suites start on the real server about eighty times in `npm test`, and each ran every
 * migration on a fresh database (0.2-0.4 s, and the server's CPU, on the machine of stop 54), as the embedded ones
 * copy a migrated cluster (pgdata-template.ts). Its name carries a hash of the migrations' sources, so a changed
 * migration gets a new one; it is built under another name and renamed when done, under an advisory lock, so
 * concurrent workers neither build it twice nor copy half of one. Nothing connects to it after (a template with a
 * session cannot be copied). The migrations suite and the CLI's `migrate` still start from an empty database.
 */
let migratedTemplate: Promise<string> | null = null;

function migratedTemplateDatabase(): Promise<string> {
  migratedTemplate ??= (async () => {
    const name = `auth_test_template_${hashMigrations(createHash('sha256')).digest('hex').slice(0, 16)}`;
    const admin = new Client({ connectionString: REAL_DATABASE_URL });
    await admin.connect();
    try {
      await admin.query('SELECT pg_advisory_lock(hashtext($1))', [name]);
      const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (found.rowCount === 0) {
        const build = `${name}_${randomBytes(4).toString('hex')}`;
        await admin.query(`CREATE DATABASE ${build}`);
        try {
          const url = new URL(REAL_DATABASE_URL);
          url.pathname = `/${build}`;
          const dataSource = createDataSource({ url: url.toString(), poolSize: 1 });
          try {
            await dataSource.initialize();
            await runMigrations(dataSource);
          } finally {
            if (dataSource.isInitialized) await dataSource.destroy();
          }
          await admin.query(`ALTER DATABASE ${build} RENAME TO ${name}`);
        } catch (error) {
          await admin.query(`DROP DATABASE IF EXISTS ${build} WITH (FORCE)`).catch(() => undefined);
          throw error;
        }
      }
    } finally {
      await admin.end(); // ends the session, and its advisory lock with it
    }
    return name;
  })();
  return migratedTemplate;
}

/**
 * A throw-away schema on the real PostgreSQL, migrated; `url` reaches it, so that several data sources (or a
 * child process) can open their own connections to one database.
 */
export interface ScratchSchema {
  url: string;
  open(poolSize?: number): Promise<DataSource>;
  drop(): Promise<void>;
}

export async function createScratchSchema(prefix = 'scratch'): Promise<ScratchSchema> {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: REAL_DATABASE_URL, connectionTimeoutMillis: 5000 });
  await admin.connect();
  await installTrigramInPublic(admin);
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = new URL(REAL_DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const opened: DataSource[] = [];
  const open = async (poolSize = 4) => {
    const dataSource = createDataSource({ url: url.toString(), poolSize });
    opened.push(dataSource);
    await dataSource.initialize();
    return dataSource;
  };
  const drop = async () => {
    for (const dataSource of opened) if (dataSource.isInitialized) await dataSource.destroy();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  };
  try {
    await runMigrations(await open(1));
  } catch (error) {
    await drop();
    throw error;
  }
  return { url: url.toString(), open, drop };
}

/**
 * Scratch schemas share one database and pg_trgm is installed once per database: where the first migration to
 * run created it, in its own scratch schema (the first on its search_path), dropping that schema would take the
 * extension, and every other schema's trigram indexes with it. So it goes to `public` first, under a lock (two
 * concurrent CREATE EXTENSION race on the catalog's unique index), as a DBA would install it.
 */
async function installTrigramInPublic(admin: Client): Promise<void> {
  await admin.query('BEGIN');
  try {
    await admin.query(`SELECT pg_advisory_xact_lock(hashtext('auth-service tests: pg_trgm'))`);
    await admin.query('CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public');
    await admin.query('COMMIT');
  } catch (error) {
    await admin.query('ROLLBACK');
    throw error;
  }
}

let counter = 0;

/** Commits `count` events to the outbox in one transaction, as a use case would; returns their ids. */
export async function commitEvents(dataSource: DataSource, count: number, type = 'auth.user.updated'): Promise<string[]> {
  const events: DomainEvent[] = Array.from({ length: count }, () => {
    counter += 1;
    return { type, subject: `user-${counter}`, occurredAt: new Date(), data: { user_id: `user-${counter}`, n: counter } };
  });
  return dataSource.transaction(async (manager) => {
    await new TypeOrmOutboxWriter(manager).write(events);
    const rows: { id: string }[] = await manager.query(
      `SELECT id FROM outbox_events WHERE subject = ANY($1::text[]) ORDER BY created_at`,
      [events.map((e) => e.subject)],
    );
    return rows.map((r) => r.id);
  });
}

export async function pendingCount(dataSource: DataSource): Promise<number> {
  const rows: { n: string }[] = await dataSource.query(`SELECT count(*) AS n FROM outbox_events WHERE published_at IS NULL`);
  return Number(rows[0]!.n);
}

// ---------------------------------------------------------------------------------------------- Redis

/** The real Redis of the integration and security suites (CI sets REDIS_URL). */
export const REAL_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export const REAL_REDIS_SELECTED: boolean = selectRealServer('Redis', REAL_REDIS_URL, `const { createClient } = require(${JSON.stringify(require.resolve('redis'))});
    const c = createClient({ url: process.env.PROBE_URL, socket: { connectTimeout: 3000, reconnectStrategy: false } });
    c.on('error', () => {});
    c.connect().then(() => c.ping()).then(() => c.close()).then(() => process.exit(0), () => process.exit(1));`);

/** A key prefix no other run shares; every key a test writes starts with it. */
/** A fixed encryption key for the Redis adapters' key digests in tests (the service derives its own from ENCRYPTION_KEY). */
export const TEST_ENCRYPTION_KEY = Buffer.alloc(32, 7);

/** The key space the Redis adapters of a test use: `prefix`, with digests keyed by TEST_ENCRYPTION_KEY. */
export function testKeys(prefix: string): RedisKeys {
  return RedisKeys.derive(prefix, TEST_ENCRYPTION_KEY);
}

export function uniqueKeyPrefix(): string {
  return `test:${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key under `prefix` (SCAN, never KEYS). */
export async function dropKeyPrefix(prefix: string): Promise<void> {
  const client = createClient({ url: REAL_REDIS_URL });
  client.on('error', () => undefined);
  await client.connect();
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      if (keys.length > 0) await client.del(keys);
    }
  } finally {
    await client.close();
  }
}

// ---------------------------------------------------------------------------------------------- RabbitMQ

/** The real broker of the integration suites (CI sets AMQP_URL). */
export const REAL_AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

export const REAL_RABBIT_SELECTED: boolean = selectRealServer('RabbitMQ', REAL_AMQP_URL, `require(${JSON.stringify(require.resolve('amqplib'))}).connect(process.env.PROBE_URL, { timeout: 3000 })
    .then((m) => m.close()).then(() => process.exit(0), () => process.exit(1));`);

/** Exchange and queue names no other run (or parallel CI job) shares. */
export function uniqueNames(): { exchange: string; queuePrefix: string } {
  const run = randomBytes(5).toString('hex');
  return { exchange: `test.auth.events.${run}`, queuePrefix: `test-${run}.` };
}

export interface Received {
  event: IntegrationEvent;
  message: ConsumeMessage;
}

/**
 * A plain consumer of the test: its own exclusive queue bound to `exchange`, everything it receives kept in
 * order. `deleteExchange` and the queues named by the prefix are removed by `cleanup()`.
 */
export class TestConsumer {
  readonly received: Received[] = [];
  private constructor(
    private readonly model: ChannelModel,
    readonly channel: Channel,
  ) {}

  static async start(exchange: string, pattern = '#'): Promise<TestConsumer> {
    const model = await connect(REAL_AMQP_URL);
    model.on('error', () => undefined); // a lost connection shows as missing events, with a clearer message
    const channel = await model.createChannel();
    await channel.assertExchange(exchange, 'topic', { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    await channel.bindQueue(queue, exchange, pattern);
    const consumer = new TestConsumer(model, channel);
    await channel.consume(queue, (message) => {
      if (!message) return;
      consumer.received.push({ event: JSON.parse(message.content.toString('utf8')) as IntegrationEvent, message });
      channel.ack(message);
    });
    return consumer;
  }

  ids(): string[] {
    return this.received.map((r) => r.event.id);
  }

  ofType(type: string): Received[] {
    return this.received.filter((r) => r.event.type === type);
  }

  async close(): Promise<void> {
    await this.model.close().catch(() => undefined);
  }
}

/** Deletes the exchange and the named queues (each subscriber's queue, retry and dead-letter queues). */
export async function cleanupBroker(exchange: string, queues: string[]): Promise<void> {
  const model = await connect(REAL_AMQP_URL);
  const channel = await model.createChannel();
  for (const queue of queues) await channel.deleteQueue(queue);
  await channel.deleteExchange(exchange);
  await model.close();
}
