import { randomBytes, randomUUID } from 'node:crypto';
import { connect, type Channel, type ChannelModel } from 'amqplib';
import type { DataSource } from 'typeorm';
import { ProcessEventOnce } from '@application/shared/process-event-once';
import type { IntegrationEvent } from '@application/ports/event-publisher';
import type { Repositories } from '@application/ports/unit-of-work';
import { AmqpConnection } from '@infrastructure/messaging/rabbitmq/amqp-connection';
import { brokerUser, TrustedPublishers } from '@infrastructure/messaging/rabbitmq/broker-user';
import { AmqpEventSubscriptions, queueArguments, queueNames } from '@infrastructure/messaging/rabbitmq/amqp-event-subscriptions';
import { TypeOrmUnitOfWork } from '@infrastructure/persistence/typeorm/typeorm-unit-of-work';
import { AesGcmSecretBox } from '@infrastructure/security/crypto/aes-gcm-secret-box';
import { SystemClock } from '@infrastructure/time/system-clock';
import { EventConsumer } from '@interface/events/event-consumer';
import type { EventSubscriber } from '@interface/events/event-subscriber';
import { RecordingLogger, eventually } from '../../support/events';
import { REAL_POSTGRES_SELECTED, describeWhen, REAL_AMQP_URL, REAL_RABBIT_SELECTED, cleanupBroker, uniqueNames, createScratchSchema, type ScratchSchema } from '../../support/servers';

/** Queues an email through the unit of work (the handler's write) and fails on the calls `failing` names. */
class Probe implements EventSubscriber {
  readonly patterns = ['auth.user.*'];
  calls = 0;
  constructor(readonly name: string, private readonly failing: (call: number) => boolean) {}
  async handle(event: IntegrationEvent, repos: Repositories): Promise<void> {
    this.calls += 1;
    await repos.emails.enqueue({ to: 'ops@example.com', subject: `${this.name} ${event.id}`, text: 't', html: '<p>h</p>' });
    if (this.failing(this.calls)) throw new Error(`handler failure ${this.calls}`);
  }
}

/**
 * AMQP_QUEUE_TYPE=quorum on the real RabbitMQ. `checkQueue` does not report a queue's type, so the type is read
 * the way the broker enforces it: redeclaring an existing queue with another `x-queue-type` fails with
 * 406 PRECONDITION_FAILED naming the argument, while the same arguments are accepted.
 */
describeWhen(REAL_POSTGRES_SELECTED && REAL_RABBIT_SELECTED, 'the real PostgreSQL and RabbitMQ')('quorum subscriber queues on RabbitMQ', () => {
  let db: ScratchSchema;
  let dataSource: DataSource;
  let model: ChannelModel;
  let channel: Channel;
  const connections: AmqpConnection[] = [];
  const logger = new RecordingLogger();
  const { exchange, queuePrefix } = uniqueNames();
  const subscribers = ['quorum-flow', 'quorum-retry', 'quorum-dlq', 'classic-control'];

  const consumerOf = (queueType: 'classic' | 'quorum') => {
    const connection = new AmqpConnection({ url: REAL_AMQP_URL }, logger);
    connections.push(connection);
    connection.start();
    const clock = new SystemClock();
    const uow = new TypeOrmUnitOfWork(dataSource, { secretBox: new AesGcmSecretBox(randomBytes(32)), clock });
    const subscriptions = new AmqpEventSubscriptions(connection, { exchange, queuePrefix, queueType, userId: brokerUser(REAL_AMQP_URL), trustedPublishers: new TrustedPublishers([brokerUser(REAL_AMQP_URL)]) }, logger);
    return new EventConsumer(subscriptions, new ProcessEventOnce(uow, clock), logger, { maxAttempts: 3, retryBaseDelayMs: 20, retryMaxDelayMs: 50 });
  };

  beforeAll(async () => {
    db = await createScratchSchema();
    dataSource = await db.open();
    model = await connect(REAL_AMQP_URL);
    channel = await model.createChannel();
    await channel.assertExchange(exchange, 'topic', { durable: true });
  }, 60_000);

  afterAll(async () => {
    for (const connection of connections) await connection.close();
    await model.close();
    await cleanupBroker(exchange, subscribers.flatMap((name) => Object.values(queueNames(queuePrefix, name))));
    await db.drop();
  });

  /** Redeclares `queue` with `args` on a channel of its own (a refusal closes the channel): null = accepted. */
  const redeclare = async (queue: string, args: Record<string, string>): Promise<{ code: number; message: string } | null> => {
    const probe = await model.createChannel();
    probe.on('error', () => undefined);
    try {
      await probe.assertQueue(queue, { durable: true, ...(Object.keys(args).length > 0 ? { arguments: args } : {}) });
      await probe.close();
      return null;
    } catch (error) {
      const e = error as { code?: number; message?: string };
      return { code: e.code ?? 0, message: e.message ?? '' };
    }
  };
  const consumersOf = async (queue: string): Promise<number> => {
    const probe = await model.createChannel();
    probe.on('error', () => undefined);
    const found = await probe.checkQueue(queue).catch(() => null);
    if (found) await probe.close();
    return found?.consumerCount ?? 0;
  };
  const newEvent = (): IntegrationEvent => ({
    specversion: '1.0', id: randomUUID(), source: 'auth-service', type: 'auth.user.updated', subject: 'u1',
    time: new Date().toISOString(), datacontenttype: 'application/json', data: { user_id: 'u1' },
  });
  const publish = (event: IntegrationEvent) => channel.publish(exchange, event.type, Buffer.from(JSON.stringify(event)), { persistent: true, userId: brokerUser(REAL_AMQP_URL) });
  /** Every subscriber is bound to every event: each probe's writes carry its name. */
  const emailsFor = async (subscriber: string, eventId: string) =>
    Number((await dataSource.query(`SELECT count(*) AS n FROM email_outbox WHERE subject = $1`, [`${subscriber} ${eventId}`]))[0].n);
  const drain = async (queue: string) => {
    const messages = [];
    for (;;) {
      const found = await channel.get(queue, { noAck: true });
      if (found === false) return messages;
      messages.push(found);
    }
  };

  it('declares the queue, its retry queue and its dead-letter queue as quorum queues (and classic ones when so configured)', async () => {
    await consumerOf('quorum').start(new Probe('quorum-flow', () => false));
    await consumerOf('classic').start(new Probe('classic-control', () => false));
    const quorum = queueNames(queuePrefix, 'quorum-flow');
    const classic = queueNames(queuePrefix, 'classic-control');
    await eventually(async () => (await consumersOf(quorum.queue)) === 1 && (await consumersOf(classic.queue)) === 1, 10_000, 'both consumers');
    const quorumArgs = queueArguments('quorum', quorum);
    for (const kind of ['queue', 'retry', 'deadLetter'] as const) {
      // The same declaration is accepted; the one of a classic queue is refused for its x-queue-type.
      expect(await redeclare(quorum[kind], quorumArgs[kind])).toBeNull();
      const refused = await redeclare(quorum[kind], { ...quorumArgs[kind], 'x-queue-type': 'classic' });
      expect(refused).toMatchObject({ code: 406 });
      expect(refused!.message).toMatch(/inequivalent arg 'x-queue-type'.*received 'classic' but current is 'quorum'/);
      // The control: the classic subscriber's queues are classic, so the method tells the two apart.
      const classicRefused = await redeclare(classic[kind], { ...queueArguments('classic', classic)[kind], 'x-queue-type': 'quorum' });
      expect(classicRefused).toMatchObject({ code: 406 });
      expect(classicRefused!.message).toMatch(/inequivalent arg 'x-queue-type'/);
    }
  });

  it('a message still flows through the quorum queue and the quorum retry queue: failed twice, then processed once', async () => {
    const probe = new Probe('quorum-retry', (call) => call <= 2);
    await consumerOf('quorum').start(probe);
    const names = queueNames(queuePrefix, 'quorum-retry');
    await eventually(async () => (await consumersOf(names.queue)) === 1, 10_000);
    const event = newEvent();
    publish(event);
    await eventually(async () => (await emailsFor('quorum-retry', event.id)) === 1, 15_000, 'processing after two retries');
    expect(probe.calls).toBe(3);
    expect(await emailsFor('quorum-retry', event.id)).toBe(1);
    expect(await drain(names.deadLetter)).toEqual([]);
  });

  it('a message that keeps failing ends in the quorum dead-letter queue exactly once', async () => {
    const probe = new Probe('quorum-dlq', () => true);
    await consumerOf('quorum').start(probe);
    const names = queueNames(queuePrefix, 'quorum-dlq');
    await eventually(async () => (await consumersOf(names.queue)) === 1, 10_000);
    const event = newEvent();
    publish(event);
    await eventually(() => probe.calls === 3, 15_000, 'three attempts');
    let dead: Awaited<ReturnType<typeof drain>> = [];
    await eventually(async () => (dead = [...dead, ...(await drain(names.deadLetter))]).length > 0, 10_000, 'the dead letter');
    await new Promise((r) => setTimeout(r, 500)); // nothing else arrives later
    dead = [...dead, ...(await drain(names.deadLetter))];
    expect(dead).toHaveLength(1);
    expect(JSON.parse(dead[0]!.content.toString())).toEqual(event);
    expect(dead[0]!.properties.headers).toMatchObject({ attempt: 3, 'dead-letter-reason': 'Error: handler failure 3' });
    expect(probe.calls).toBe(3);
    expect(await emailsFor('quorum-dlq', event.id)).toBe(0); // every failed attempt rolled back
  });
});
