import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { DataSource } from 'typeorm';
import type { EventPublisher, IntegrationEvent, PublishReport } from '@application/ports/event-publisher';
import { OutboxRelay } from '@infrastructure/messaging/outbox-relay';
import { AmqpConnection } from '@infrastructure/messaging/rabbitmq/amqp-connection';
import { AmqpEventPublisher } from '@infrastructure/messaging/rabbitmq/amqp-event-publisher';
import { brokerUser } from '@infrastructure/messaging/rabbitmq/broker-user';
import { TypeOrmOutboxStore } from '@infrastructure/persistence/typeorm/typeorm-outbox-store';
import { SystemClock } from '@infrastructure/time/system-clock';
import { RecordingLogger, eventually } from '../../support/events';
import { REAL_POSTGRES_SELECTED, describeWhen, REAL_AMQP_URL, REAL_RABBIT_SELECTED, TestConsumer, cleanupBroker, uniqueNames, commitEvents, createScratchSchema, type ScratchSchema } from '../../support/servers';

const run = promisify(execFile);

/** The broker's memory watermark setting (`{relative: 0.4}` or `{absolute: ...}`), read with rabbitmqctl. */
async function watermark(): Promise<{ relative?: number; absolute?: number | string }> {
  const { stdout } = await run('rabbitmqctl', ['status', '--formatter', 'json']);
  return (JSON.parse(stdout) as { vm_memory_high_watermark_setting: { relative?: number; absolute?: number | string } }).vm_memory_high_watermark_setting;
}

async function setWatermark(setting: { relative?: number; absolute?: number | string }): Promise<void> {
  const args = setting.absolute !== undefined ? ['absolute', String(setting.absolute)] : [String(setting.relative ?? 0.4)];
  await run('rabbitmqctl', ['set_vm_memory_high_watermark', ...args]);
}

/** The real publisher, counting which events it was asked to publish (each call puts a copy on the connection). */
class CountingPublisher implements EventPublisher {
  readonly sent: string[] = [];
  constructor(private readonly inner: AmqpEventPublisher) {}
  isAvailable(): boolean {
    return this.inner.isAvailable();
  }
  publish(events: readonly IntegrationEvent[]): Promise<PublishReport> {
    this.sent.push(...events.map((e) => e.id));
    return this.inner.publish(events);
  }
}

/**
 * A review of stop 55: under a RabbitMQ resource alarm (memory or disk) the broker stops reading a publishing
 * connection and tells it so (connection.blocked), but keeps it open. amqplib buffered every publish without a bound,
 * no confirm came, and the relay kept going: each event's confirm timed out, its retry came, and it was put on the
 * connection again, every retry for as long as the alarm lasted, all held in memory and all delivered when it ended.
 * Here a real alarm (the memory watermark set to 0, which blocks every publisher at once) lasts 4 s with a 400-ms
 * confirm timeout and 20-200 ms retries: the old relay put the event on the connection about ten times.
 * Serial (tests/support/serial-suites.cjs): the alarm blocks every publisher of the broker while it lasts.
 */
describeWhen(REAL_POSTGRES_SELECTED && REAL_RABBIT_SELECTED, 'the real PostgreSQL and RabbitMQ')('outbox relay under a broker resource alarm', () => {
  let db: ScratchSchema;
  let dataSource: DataSource;
  let consumer: TestConsumer;
  let original: { relative?: number; absolute?: number | string };
  const { exchange } = uniqueNames();
  const stops: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    original = await watermark();
    db = await createScratchSchema();
    dataSource = await db.open();
    consumer = await TestConsumer.start(exchange);
  }, 60_000);

  afterAll(async () => {
    await setWatermark(original);
    while (stops.length > 0) await stops.pop()!();
    await consumer.close();
    await cleanupBroker(exchange, []);
    await dataSource.destroy();
    await db.drop();
  }, 60_000);

  it('blocked, the relay puts an event on the connection once and waits; unblocked, it arrives, at most twice', async () => {
    const logger = new RecordingLogger();
    const connection = new AmqpConnection({ url: REAL_AMQP_URL, minBackoffMs: 20, maxBackoffMs: 200 }, logger);
    const amqp = new AmqpEventPublisher(connection, { exchange, confirmTimeoutMs: 400, userId: brokerUser(REAL_AMQP_URL) }, logger);
    const publisher = new CountingPublisher(amqp);
    const relay = new OutboxRelay(new TypeOrmOutboxStore(dataSource), publisher, new SystemClock(), logger, {
      batchSize: 50,
      pollIntervalMs: 50,
      minBackoffMs: 20,
      maxBackoffMs: 200,
    });
    amqp.onUnblocked(() => relay.wake());
    connection.start();
    relay.start();
    stops.push(async () => {
      await relay.stop();
      await connection.close();
    });
    const [before] = await commitEvents(dataSource, 1);
    await eventually(() => consumer.ids().includes(before!), 10_000, 'an event before the alarm');

    await setWatermark({ relative: 0 });
    let restored = false;
    try {
      const [during] = await commitEvents(dataSource, 1);
      relay.poke();
      await eventually(() => publisher.sent.includes(during!), 5_000, 'the event put on the connection');
      await new Promise((r) => setTimeout(r, 4_000));
      const putOn = publisher.sent.filter((id) => id === during).length;
      expect({ putOn, available: amqp.isAvailable(), arrived: consumer.ids().includes(during!) }).toEqual({ putOn: 1, available: false, arrived: false });
      await setWatermark(original);
      restored = true;
      await eventually(() => consumer.ids().includes(during!), 15_000, 'the event after the alarm');
      await new Promise((r) => setTimeout(r, 1_500));
      const copies = consumer.ids().filter((id) => id === during).length;
      expect(copies).toBeLessThanOrEqual(2);
      expect(amqp.isAvailable()).toBe(true);
      expect(logger.messages()).toEqual(expect.arrayContaining(['AMQP broker blocked publishing (resource alarm); events wait in the outbox', 'AMQP broker unblocked publishing']));
    } finally {
      if (!restored) await setWatermark(original);
    }
  }, 60_000);
});
