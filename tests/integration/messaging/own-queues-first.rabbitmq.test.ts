import { connect } from 'amqplib';
import pino from 'pino';
import type { DataSource } from 'typeorm';
import { EventTypes } from '@domain/shared/event-types';
import { loadConfig } from '@config/env';
import { startMessaging, type Messaging } from '@config/messaging';
import { queueNames } from '@infrastructure/messaging/rabbitmq/amqp-queue-topology';
import { SECURITY_NOTICES_SUBSCRIBER } from '@interface/events/security-notice.subscriber';
import { eventually } from '../../support/events';
import { REAL_POSTGRES_SELECTED, describeWhen, REAL_AMQP_URL, REAL_RABBIT_SELECTED, cleanupBroker, uniqueNames, commitEvents, createScratchSchema, type ScratchSchema } from '../../support/servers';

/**
 * A review of stop 60: RabbitMQ confirms a message it routes to no queue, and drops it. On a broker with none of the
 * service's queues yet (new, or rebuilt without its definitions), the relay, which starts before the subscribers,
 * published the pending events before the subscribers' connection had declared their queue: an account's
 * `auth.account.locked` then never reached the security-notices subscriber, and its owner was never told. The
 * publisher now declares the service's own queues before its first publish on each connection. Here no subscriber
 * ever starts: the events must wait in the queue for it.
 */
describeWhen(REAL_POSTGRES_SELECTED && REAL_RABBIT_SELECTED, 'the real PostgreSQL and RabbitMQ')('events published before the subscribers start', () => {
  let db: ScratchSchema;
  let dataSource: DataSource;
  let messaging: Messaging | null = null;
  const { exchange, queuePrefix } = uniqueNames();
  const names = queueNames(queuePrefix, SECURITY_NOTICES_SUBSCRIBER);

  beforeAll(async () => {
    db = await createScratchSchema();
    dataSource = await db.open();
  }, 60_000);

  afterAll(async () => {
    await messaging?.close();
    await cleanupBroker(exchange, [names.queue, names.retry, names.deadLetter]);
    await dataSource.destroy();
    await db.drop();
  }, 30_000);

  it('wait in the service\'s own queue, declared by the publisher on a broker that had none', async () => {
    const config = loadConfig({ AMQP_URL: REAL_AMQP_URL, AMQP_EXCHANGE: exchange, AMQP_QUEUE_PREFIX: queuePrefix });
    messaging = startMessaging(config, pino({ level: 'silent' }), dataSource);
    const m = messaging;
    await eventually(() => m.broker() === 'up', 10_000, 'the publisher connected');
    const ids = [...(await commitEvents(dataSource, 2, EventTypes.AccountLocked)), ...(await commitEvents(dataSource, 1, EventTypes.SessionRefreshReuseDetected))];
    m.relay.poke();
    const published = async () =>
      ((await dataSource.query('SELECT count(*)::int AS n FROM outbox_events WHERE id = ANY($1::uuid[]) AND published_at IS NOT NULL', [ids])) as { n: number }[])[0]!.n;
    await eventually(async () => (await published()) === ids.length, 15_000, 'the events published');

    const model = await connect(REAL_AMQP_URL);
    try {
      const channel = await model.createChannel();
      // Throws (404, and closes the channel) where the queue does not exist: on the code before, it did not.
      const queue = await channel.checkQueue(names.queue);
      expect(queue.messageCount).toBe(ids.length);
      const received: string[] = [];
      for (let i = 0; i < ids.length; i += 1) {
        const message = await channel.get(names.queue, { noAck: true });
        if (message) received.push((JSON.parse(message.content.toString()) as { id: string }).id);
      }
      expect(received.sort()).toEqual([...ids].sort());
    } finally {
      await model.close();
    }
  }, 60_000);
});
