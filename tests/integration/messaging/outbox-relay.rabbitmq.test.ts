import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { connect } from 'amqplib';
import type { DataSource } from 'typeorm';
import { OutboxRelay, type OutboxRelayOptions } from '@infrastructure/messaging/outbox-relay';
import { AmqpConnection } from '@infrastructure/messaging/rabbitmq/amqp-connection';
import { AmqpEventPublisher, CLOUDEVENTS_CONTENT_TYPE } from '@infrastructure/messaging/rabbitmq/amqp-event-publisher';
import { brokerUser } from '@infrastructure/messaging/rabbitmq/broker-user';
import { TypeOrmOutboxStore } from '@infrastructure/persistence/typeorm/typeorm-outbox-store';
import { SystemClock } from '@infrastructure/time/system-clock';
import { RecordingLogger, eventually } from '../../support/events';
import { REAL_POSTGRES_SELECTED, describeWhen, REAL_AMQP_URL, REAL_RABBIT_SELECTED, TestConsumer, cleanupBroker, uniqueNames, commitEvents, createScratchSchema, pendingCount, type ScratchSchema } from '../../support/servers';
import { TcpProxy } from '../../support/tcp-proxy';

const FAST: Partial<OutboxRelayOptions> = { batchSize: 50, pollIntervalMs: 50, minBackoffMs: 20, maxBackoffMs: 200 };

/** The relay against the real PostgreSQL and the real RabbitMQ: outage, crash, two relays. */
describeWhen(REAL_POSTGRES_SELECTED && REAL_RABBIT_SELECTED, 'the real PostgreSQL and RabbitMQ')('outbox relay -> RabbitMQ', () => {
  let db: ScratchSchema;
  let dataSource: DataSource;
  let consumer: TestConsumer;
  const { exchange, queuePrefix } = uniqueNames();
  const stops: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    db = await createScratchSchema();
    dataSource = await db.open();
    consumer = await TestConsumer.start(exchange);
  }, 60_000);

  afterEach(async () => {
    while (stops.length > 0) await stops.pop()!();
  });

  afterAll(async () => {
    await consumer.close();
    await cleanupBroker(exchange, []);
    await db.drop();
  });

  /** A relay with its own connections to the database and the broker, as another instance would have. */
  async function startRelay(url = REAL_AMQP_URL, options: Partial<OutboxRelayOptions> = FAST) {
    const logger = new RecordingLogger();
    const connection = new AmqpConnection({ url, minBackoffMs: 20, maxBackoffMs: 200 }, logger);
    const publisher = new AmqpEventPublisher(connection, { exchange, confirmTimeoutMs: 2000, userId: brokerUser(url) }, logger);
    const ownDataSource = await db.open();
    const relay = new OutboxRelay(new TypeOrmOutboxStore(ownDataSource), publisher, new SystemClock(), logger, options);
    connection.start();
    relay.start();
    stops.push(async () => {
      await relay.stop();
      await connection.close();
    });
    return { relay, publisher, logger };
  }

  const arrived = (ids: string[]) => () => {
    const seen = new Set(consumer.ids());
    return ids.every((id) => seen.has(id));
  };
  const copies = (id: string) => consumer.ids().filter((seen) => seen === id).length;

  it('publishes persistent CloudEvents with routing key = type and message id = event id', async () => {
    await startRelay();
    const [id] = await commitEvents(dataSource, 1, 'auth.user.deleted');
    await eventually(arrived([id!]));
    const { event, message } = consumer.received.find((r) => r.event.id === id)!;
    expect(event).toMatchObject({ specversion: '1.0', id, source: 'auth-service', type: 'auth.user.deleted', datacontenttype: 'application/json' });
    expect(message.fields.routingKey).toBe('auth.user.deleted');
    expect(message.properties).toMatchObject({ messageId: id, contentType: CLOUDEVENTS_CONTENT_TYPE, deliveryMode: 2, type: 'auth.user.deleted', userId: brokerUser(REAL_AMQP_URL) });
    await eventually(async () => (await pendingCount(dataSource)) === 0, 5000, 'the row marked published');
  });

  it('broker outage: events committed while the proxy is cut arrive after it is restored, none lost', async () => {
    const target = new URL(REAL_AMQP_URL);
    const proxy = new TcpProxy(target.hostname, Number(target.port || 5672));
    await proxy.start();
    stops.push(() => proxy.close());
    const { publisher, logger } = await startRelay(proxy.through(REAL_AMQP_URL));
    const before = await commitEvents(dataSource, 5);
    await eventually(arrived(before));
    // Delivered is not yet confirmed: a row whose confirm the cut below stops is still pending after it (and sent again
    // once the broker is back, as at-least-once allows), which made the count below 30 + n on a loaded machine.
    await eventually(async () => (await pendingCount(dataSource)) === 0, 5000, 'the rows before the outage marked published');

    proxy.cut();
    await eventually(() => !publisher.isAvailable(), 5000, 'the publisher to notice the outage');
    const during: string[] = [];
    for (let i = 0; i < 10; i += 1) during.push(...(await commitEvents(dataSource, 3)));
    await eventually(() => logger.messages().includes('outbox relay: cannot publish; backing off'));
    expect(consumer.ids().filter((id) => during.includes(id))).toEqual([]);
    expect(await pendingCount(dataSource)).toBe(30);

    proxy.restore();
    await eventually(arrived(during), 15_000, 'the events of the outage');
    await eventually(async () => (await pendingCount(dataSource)) === 0, 5000, 'every row marked published');
    expect(during.every((id) => copies(id) === 1)).toBe(true);
    expect(logger.messages()).toContain('AMQP reconnected');
  }, 30_000);

  it("a queue that refuses (full, x-overflow reject-publish) holds back its own events only: the rest go out, the refused ones are retried until it takes them (outside review, 2026-12-05)", async () => {
    const refusing = `${queuePrefix}refusing`;
    const model = await connect(REAL_AMQP_URL);
    const channel = await model.createChannel();
    // Takes nothing: the broker nacks every auth.user.deleted it would route there.
    await channel.assertQueue(refusing, { durable: false, arguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' } });
    await channel.bindQueue(refusing, exchange, 'auth.user.deleted');
    try {
      const { logger } = await startRelay(REAL_AMQP_URL, { ...FAST, batchSize: 20 });
      const refused = await commitEvents(dataSource, 60, 'auth.user.deleted'); // three full batches of refusals first
      const revocations = await commitEvents(dataSource, 5, 'auth.session.revoked');
      await eventually(arrived(revocations), 5000, 'the revocations behind 60 refused events');
      const refusedRows = async (): Promise<{ attempts: number; last_error: string | null; waiting: boolean }[]> =>
        dataSource.query(
          `SELECT attempts, last_error, next_attempt_at > '-infinity' AS waiting FROM outbox_events WHERE id = ANY($1::uuid[]) AND published_at IS NULL`,
          [refused],
        );
      const heldBack = (row: { attempts: number; last_error: string | null; waiting: boolean }) => row.attempts >= 1 && row.waiting && /nack/i.test(row.last_error ?? '');
      // The revocations can arrive before the relay has written the last refusals down (a loaded machine, stop 59):
      // every refused row must be recorded as nacked and waiting soon after, none of them published.
      await eventually(async () => (await refusedRows()).filter(heldBack).length === 60, 5000, 'the 60 refusals recorded');
      const rows = await refusedRows();
      expect(rows).toHaveLength(60);
      expect(rows.every(heldBack)).toBe(true);
      const warned = new Set(logger.lines.filter((l) => l.message === 'outbox relay: event not confirmed by the broker; will retry it').map((l) => l.fields.event_id));
      expect(refused.filter((id) => !warned.has(id))).toEqual([]);
      expect(logger.messages()).not.toContain('outbox relay: cannot publish; backing off');

      await channel.deleteQueue(refusing); // the consumer catches up: the retries are taken
      await eventually(async () => (await pendingCount(dataSource)) === 0, 10_000, 'the refused events, retried');
      await eventually(arrived(refused), 5000, 'every refused event, at least once');
    } finally {
      await channel.deleteQueue(refusing).catch(() => undefined);
      await model.close().catch(() => undefined);
    }
  }, 30_000);

  it('two relays on one database: every event arrives exactly once while both run', async () => {
    const a = await startRelay(REAL_AMQP_URL, { ...FAST, batchSize: 20 });
    const b = await startRelay(REAL_AMQP_URL, { ...FAST, batchSize: 20 });
    const ids = (await Promise.all(Array.from({ length: 20 }, () => commitEvents(dataSource, 20)))).flat();
    await eventually(arrived(ids), 20_000, 'all 400 events');
    await eventually(async () => (await pendingCount(dataSource)) === 0, 5000);
    expect(ids.filter((id) => copies(id) !== 1)).toEqual([]);
    expect(a.relay.published).toBeGreaterThan(0);
    expect(b.relay.published).toBeGreaterThan(0);
  }, 30_000);

  it('a publish channel that dies (exchange deleted under it) is replaced: the exchange is re-declared, the batch retried', async () => {
    const { logger } = await startRelay();
    await eventually(() => logger.messages().includes('AMQP connected'));
    const model = await connect(REAL_AMQP_URL);
    await (await model.createChannel()).deleteExchange(exchange);
    const ids = await commitEvents(dataSource, 3);
    await eventually(() => logger.messages().includes('AMQP channel lost; reconnecting'), 10_000);
    await eventually(async () => (await pendingCount(dataSource)) === 0, 10_000, 'the batch published after the reconnect');
    const rows: { attempts: number }[] = await dataSource.query(`SELECT attempts FROM outbox_events WHERE id = ANY($1::uuid[])`, [ids]);
    expect(rows.every((row) => row.attempts >= 2)).toBe(true); // refused once, then confirmed
    await expect((await model.createChannel()).checkExchange(exchange)).resolves.toBeDefined();
    await model.close();
    await consumer.close();
    consumer = await TestConsumer.start(exchange); // its binding went with the exchange
  }, 30_000);

  describe.each([
    ['before-publish', 'claimed', 0],
    ['before-mark', 'confirmed', 1],
  ])('crash between commit and publish (relay killed %s)', (crashAt, reported, duplicatesPerEvent) => {
    it(`the events arrive after restart; duplicates: ${duplicatesPerEvent === 0 ? 'none' : 'the killed batch, once'}`, async () => {
      const ids = await commitEvents(dataSource, 8);
      const child = spawn(process.execPath, ['-r', resolve(__dirname, '../../support/swc-register.cjs'), resolve(__dirname, '../../support/relay-child.ts')], {
        env: { ...process.env, DATABASE_URL: db.url, AMQP_URL: REAL_AMQP_URL, AMQP_EXCHANGE: exchange, CRASH_AT: crashAt, BATCH_SIZE: '8' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise((done) => child.once('exit', done));
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      await eventually(() => output.includes(`${reported} 8`), 20_000, `the child relay to report "${reported} 8"`);
      child.kill('SIGKILL');
      await exited;

      // Killed with the batch claimed: nothing is marked, so the rows are pending for the next relay.
      await eventually(async () => (await pendingCount(dataSource)) === 8, 5000, 'the claim to be released');
      await startRelay();
      await eventually(arrived(ids), 10_000, 'the events after restart');
      await eventually(async () => (await pendingCount(dataSource)) === 0, 5000);
      expect(ids.map(copies)).toEqual(ids.map(() => 1 + duplicatesPerEvent));
    }, 40_000);
  });
});
