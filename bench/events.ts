/**
 * `npm run bench:events`: throughput of the outbox relay with publisher confirms. Inserts BENCH_EVENTS
 * (default 20000) outbox rows into a scratch database, then times the relay until every row is confirmed by
 * RabbitMQ and marked published, for several batch sizes and for one and two relays. The exchange has one
 * durable queue bound, so each persistent message is routed and stored as in production.
 *   DATABASE_URL (unset: embedded PGlite), AMQP_URL (default amqp://guest:guest@127.0.0.1:5672),
 *   BENCH_EVENTS, BENCH_BATCHES (default 50,200,500), BENCH_RELAYS (default 1,2)
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'amqplib';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import type { DomainEvent } from '../src/domain/shared/domain-event';
import { OutboxRelay } from '../src/infrastructure/messaging/outbox-relay';
import { AmqpConnection } from '../src/infrastructure/messaging/rabbitmq/amqp-connection';
import { brokerUser } from '../src/infrastructure/messaging/rabbitmq/broker-user';
import { AmqpEventPublisher } from '../src/infrastructure/messaging/rabbitmq/amqp-event-publisher';
import { startEmbeddedPostgres } from '../src/infrastructure/persistence/embedded/embedded-postgres';
import { createDataSource, runMigrations } from '../src/infrastructure/persistence/typeorm/data-source';
import { TypeOrmOutboxWriter } from '../src/infrastructure/persistence/typeorm/outbox-writer';
import { TypeOrmOutboxStore } from '../src/infrastructure/persistence/typeorm/typeorm-outbox-store';
import { SystemClock } from '../src/infrastructure/time/system-clock';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const BATCHES = (process.env.BENCH_BATCHES ?? '50,200,500').split(',').map(Number);
const RELAYS = (process.env.BENCH_RELAYS ?? '1,2').split(',').map(Number);
const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const quiet = { info: () => undefined, warn: (f: object, m: string) => process.stderr.write(`${m} ${JSON.stringify(f)}\n`), error: () => undefined };

async function database(): Promise<{ url: string; poolSize: number; stop(): Promise<void> }> {
  if (!process.env.DATABASE_URL) {
    const dir = mkdtempSync(join(tmpdir(), 'auth-bench-events-'));
    const embedded = await startEmbeddedPostgres(dir);
    return { url: embedded.url, poolSize: 1, stop: async () => { await embedded.stop(); rmSync(dir, { recursive: true, force: true }); } };
  }
  const name = `auth_bench_events_${process.pid}`;
  const admin = async (sql: string) => {
    const client = new Client({ connectionString: process.env.DATABASE_URL });
    await client.connect();
    await client.query(sql).finally(() => client.end());
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(process.env.DATABASE_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), poolSize: 10, stop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function fill(dataSource: DataSource, count: number): Promise<void> {
  for (let done = 0; done < count; done += 1000) {
    const events: DomainEvent[] = Array.from({ length: Math.min(1000, count - done) }, (_, i) => ({
      type: 'auth.user.logged_in', subject: `user-${done + i}`, occurredAt: new Date(),
      data: { user_id: `user-${done + i}`, session_id: `session-${done + i}`, amr: ['pwd'] },
    }));
    await dataSource.transaction((manager) => new TypeOrmOutboxWriter(manager).write(events));
  }
}

async function main(): Promise<void> {
  const db = await database();
  const exchange = `bench.auth.events.${randomBytes(4).toString('hex')}`;
  const queue = `${exchange}.sink`;
  const admin = await connect(AMQP_URL);
  const channel = await admin.createChannel();
  await channel.assertExchange(exchange, 'topic', { durable: true });
  await channel.assertQueue(queue, { durable: true });
  await channel.bindQueue(queue, exchange, '#');
  const dataSource = createDataSource({ url: db.url, poolSize: db.poolSize });
  await dataSource.initialize();
  await runMigrations(dataSource);
  const connections: AmqpConnection[] = [];
  const rows = [];
  try {
    process.stdout.write(`relay bench: ${process.env.DATABASE_URL ? 'PostgreSQL server' : 'embedded PGlite'}, RabbitMQ, ${EVENTS} events per run\n`);
    for (const relays of RELAYS) {
      for (const batchSize of BATCHES) {
        await dataSource.query('TRUNCATE outbox_events');
        await channel.purgeQueue(queue);
        await fill(dataSource, EVENTS);
        const workers = await Promise.all(Array.from({ length: relays }, async () => {
          const connection = new AmqpConnection({ url: AMQP_URL }, quiet);
          connections.push(connection);
          const publisher = new AmqpEventPublisher(connection, { exchange, userId: brokerUser(AMQP_URL) }, quiet);
          connection.start();
          await connection.waitUntilConnected();
          return new OutboxRelay(new TypeOrmOutboxStore(dataSource), publisher, new SystemClock(), quiet, { batchSize });
        }));
        const started = process.hrtime.bigint();
        // Each relay drains as fast as it can (no poll waits): claim, publish, confirms, mark, again.
        await Promise.all(workers.map(async (relay) => { while ((await relay.relayBatch()).claimed > 0); }));
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const published = workers.reduce((sum, relay) => sum + relay.published, 0);
        const { messageCount } = await channel.checkQueue(queue);
        rows.push({ relays, batch: batchSize, events: published, 'in queue': messageCount, seconds: seconds.toFixed(2), 'events/s': Math.round(published / seconds) });
        while (connections.length > 0) await connections.pop()!.close();
      }
    }
    console.table(rows);
  } finally {
    await Promise.all(connections.map((c) => c.close()));
    await channel.deleteQueue(queue);
    await channel.deleteExchange(exchange);
    await admin.close();
    await dataSource.destroy();
    await db.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
