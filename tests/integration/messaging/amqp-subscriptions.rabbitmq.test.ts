import { randomBytes, randomUUID } from 'node:crypto';
import { connect, type Channel, type ChannelModel } from 'amqplib';
import type { DataSource } from 'typeorm';
import { ProcessEventOnce } from '@application/shared/process-event-once';
import type { IntegrationEvent } from '@application/ports/event-publisher';
import type { Repositories } from '@application/ports/unit-of-work';
import { AmqpConnection } from '@infrastructure/messaging/rabbitmq/amqp-connection';
import { AmqpEventSubscriptions, queueNames } from '@infrastructure/messaging/rabbitmq/amqp-event-subscriptions';
import { brokerUser, TrustedPublishers } from '@infrastructure/messaging/rabbitmq/broker-user';
import { TypeOrmUnitOfWork } from '@infrastructure/persistence/typeorm/typeorm-unit-of-work';
import { AesGcmSecretBox } from '@infrastructure/security/crypto/aes-gcm-secret-box';
import { SystemClock } from '@infrastructure/time/system-clock';
import { EventConsumer } from '@interface/events/event-consumer';
import type { EventSubscriber } from '@interface/events/event-subscriber';
import { RecordingLogger, eventually } from '../../support/events';
import { REAL_POSTGRES_SELECTED, describeWhen, REAL_AMQP_URL, REAL_RABBIT_SELECTED, cleanupBroker, uniqueNames, createScratchSchema, type ScratchSchema } from '../../support/servers';

/** A subscriber that queues an email through the unit of work and fails while `failing` says so. */
class Probe implements EventSubscriber {
  readonly patterns = ['auth.user.*'];
  readonly attempts: number[] = [];
  calls = 0;
  constructor(readonly name: string, private readonly failing: (call: number) => boolean) {}
  async handle(event: IntegrationEvent, repos: Repositories): Promise<void> {
    this.calls += 1;
    await repos.emails.enqueue({ to: 'ops@example.com', subject: event.id, text: 't', html: '<p>h</p>' });
    if (this.failing(this.calls)) throw new Error(`handler failure ${this.calls}`);
  }
}

/** The consumer base on the real RabbitMQ, de-duplicating in the real PostgreSQL. */
describeWhen(REAL_POSTGRES_SELECTED && REAL_RABBIT_SELECTED, 'the real PostgreSQL and RabbitMQ')('subscribers on RabbitMQ', () => {
  let db: ScratchSchema;
  let dataSource: DataSource;
  let model: ChannelModel;
  let channel: Channel;
  let connection: AmqpConnection;
  let consumer: EventConsumer;
  let once: ProcessEventOnce;
  const logger = new RecordingLogger();
  const { exchange, queuePrefix } = uniqueNames();
  /** The user the tests' connections log in as, trusted as the service trusts its own. */
  const userId = brokerUser(REAL_AMQP_URL);
  const trust = { userId, trustedPublishers: new TrustedPublishers([userId]) };

  beforeAll(async () => {
    db = await createScratchSchema();
    dataSource = await db.open();
    const clock = new SystemClock();
    const uow = new TypeOrmUnitOfWork(dataSource, { secretBox: new AesGcmSecretBox(randomBytes(32)), clock });
    connection = new AmqpConnection({ url: REAL_AMQP_URL }, logger);
    connection.start();
    const subscriptions = new AmqpEventSubscriptions(connection, { exchange, queuePrefix, rebindIntervalMs: 300, ...trust }, logger);
    once = new ProcessEventOnce(uow, clock);
    consumer = new EventConsumer(subscriptions, once, logger, { maxAttempts: 3, retryBaseDelayMs: 20, retryMaxDelayMs: 50 });
    model = await connect(REAL_AMQP_URL);
    channel = await model.createChannel();
    await channel.assertExchange(exchange, 'topic', { durable: true });
  }, 60_000);

  afterAll(async () => {
    await connection.close();
    await model.close();
    const queues = ['dlq-probe', 'dedup-probe', 'malformed-probe', 'unmoved-probe', 'forged-probe'].flatMap((name) => Object.values(queueNames(queuePrefix, name)));
    await cleanupBroker(exchange, queues);
    await db.drop();
  });

  /** As the service publishes: stamped with the broker user the connection logged in as (RabbitMQ checks it). */
  const publish = (event: IntegrationEvent | string, options: { userId?: string } = { userId }) =>
    channel.publish(exchange, typeof event === 'string' ? 'auth.user.updated' : event.type, Buffer.from(typeof event === 'string' ? event : JSON.stringify(event)), { persistent: true, ...options });
  const newUserEvent = (): IntegrationEvent => ({
    specversion: '1.0', id: randomUUID(), source: 'auth-service', type: 'auth.user.updated', subject: 'u1',
    time: new Date().toISOString(), datacontenttype: 'application/json', data: { user_id: 'u1' },
  });
  const newEvent = newUserEvent;
  const emailsFor = async (eventId: string) =>
    Number((await dataSource.query(`SELECT count(*) AS n FROM email_outbox WHERE subject = $1`, [eventId]))[0].n);
  /** On a channel of its own: checking a missing queue closes the channel (404). */
  const consumersOf = async (queue: string): Promise<number> => {
    const probe = await model.createChannel();
    probe.on('error', () => undefined);
    const found = await probe.checkQueue(queue).catch(() => null);
    if (found) await probe.close();
    return found?.consumerCount ?? 0;
  };
  const deadLetter = async (name: string) => {
    const found = await channel.get(queueNames(queuePrefix, name).deadLetter, { noAck: true });
    return found === false ? null : found;
  };

  it('a subscriber that fails N times sends the message to its dead-letter queue, via the delayed retry queue', async () => {
    const probe = new Probe('dlq-probe', () => true);
    await consumer.start(probe);
    await connection.waitUntilConnected();
    const event = newEvent();
    await eventually(async () => (await consumersOf(queueNames(queuePrefix, 'dlq-probe').queue)) === 1);
    publish(event);
    let dead: Awaited<ReturnType<typeof deadLetter>> = null;
    await eventually(async () => (dead = await deadLetter('dlq-probe')) !== null, 10_000, 'the dead letter');
    expect(probe.calls).toBe(3);
    expect(JSON.parse(dead!.content.toString())).toEqual(event);
    expect(dead!.properties.headers).toMatchObject({ attempt: 3, 'dead-letter-reason': 'Error: handler failure 3', 'last-error': 'Error: handler failure 2' });
    expect(await emailsFor(event.id)).toBe(0); // every failed attempt rolled back
    const processed = await dataSource.query(`SELECT 1 FROM processed_events WHERE event_id = $1`, [event.id]);
    expect(processed).toEqual([]);
  });

  /**
   * A move the broker refuses (here: the retry queue redeclared to take nothing, `x-max-length: 0` with
   * `reject-publish`, so the copy is nacked; a confirm that never comes does the same) leaves the original with the
   * channel still open. It used to stay unacked for good, holding a prefetch place (ten such, and the subscriber got
   * nothing more while its connection looked healthy: outside review, 2026-12-02). It is now given back to the queue
   * after a pause, redelivered, and handled.
   */
  it('a delivery whose move the broker refuses goes back to its queue and is handled, not left unacked', async () => {
    const subscriptions = new AmqpEventSubscriptions(connection, { exchange, queuePrefix, requeuePauseMs: 50, ...trust }, logger);
    const unmoved = new EventConsumer(subscriptions, once, logger, { prefetch: 1, maxAttempts: 3, retryBaseDelayMs: 20, retryMaxDelayMs: 50 });
    // Its own routing keys: the other probes' queues (bound to auth.user.*) must not see these events, nor it theirs.
    const probe = Object.assign(new Probe('unmoved-probe', (call) => call === 1), { patterns: ['auth.unmoved.*'] });
    const names = queueNames(queuePrefix, 'unmoved-probe');
    await unmoved.start(probe);
    await connection.waitUntilConnected();
    await eventually(async () => (await consumersOf(names.queue)) === 1);
    await channel.deleteQueue(names.retry);
    await channel.assertQueue(names.retry, {
      durable: true,
      arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': names.queue, 'x-max-length': 0, 'x-overflow': 'reject-publish' },
    });
    try {
      const first = { ...newEvent(), type: 'auth.unmoved.probe' };
      const second = { ...newEvent(), type: 'auth.unmoved.probe' };
      publish(first);
      publish(second);
      // prefetch 1: the second is delivered only once the first is settled.
      await eventually(async () => (await emailsFor(first.id)) === 1 && (await emailsFor(second.id)) === 1, 10_000, 'both events handled');
      expect(probe.calls).toBe(3); // the first's failed attempt, its redelivery, the second
      expect(logger.lines.filter((l) => l.message === 'delivery not settled' && l.fields['subscriber'] === 'unmoved-probe')).toHaveLength(1);
    } finally {
      // Declared again as the service declares it by the next connection (a later test resets it): no conflict.
      await channel.deleteQueue(names.retry);
    }
  });

  it('a duplicate delivery is processed once; a failed first attempt is retried and then counts once', async () => {
    const probe = new Probe('dedup-probe', (call) => call === 1);
    await consumer.start(probe);
    await eventually(async () => (await consumersOf(queueNames(queuePrefix, 'dedup-probe').queue)) === 1);
    const event = newEvent();
    publish(event);
    await eventually(async () => (await emailsFor(event.id)) === 1, 10_000, 'the first successful processing');
    publish(event); // the same event again (at-least-once delivery)
    await eventually(() => logger.messages().includes('event already processed; duplicate delivery ignored'), 10_000);
    expect(probe.calls).toBe(2); // the failure and the success; the duplicate never reached the handler
    expect(await emailsFor(event.id)).toBe(1);
    expect(await deadLetter('dedup-probe')).toBeNull();
  });

  it('a consumer cancelled by the broker (its queue deleted) comes back: the queue is re-declared and consumed', async () => {
    const names = queueNames(queuePrefix, 'dedup-probe');
    await channel.deleteQueue(names.queue);
    await eventually(() => logger.messages().includes('AMQP channel lost; reconnecting'), 10_000);
    await eventually(async () => (await consumersOf(names.queue)) === 1, 10_000, 'the queue re-declared and consumed');
    const event = newEvent();
    publish(event);
    await eventually(async () => (await emailsFor(event.id)) === 1, 10_000, 'processing after the recovery');
  });

  it('an exchange deleted and re-declared by someone else, without our bindings: they come back, and events reach the subscriber again (outside review, 2026-12-04)', async () => {
    await channel.deleteExchange(exchange);
    await channel.assertExchange(exchange, 'topic', { durable: true });
    // Events published before the re-binding go to no queue (the broker drops them): send one every 100 ms.
    const sent: string[] = [];
    await eventually(async () => {
      const event = newEvent();
      sent.push(event.id);
      publish(event);
      await new Promise((r) => setTimeout(r, 100));
      const [{ n }] = await dataSource.query(`SELECT count(*)::int AS n FROM email_outbox WHERE subject = ANY($1)`, [sent]);
      return n > 0;
    }, 10_000, 'an event reaching the subscriber after the exchange came back');
  });

  /**
   * Anyone allowed to publish to the exchange (or straight into a queue through the default exchange) could make the
   * security-notice subscriber mail any account's owner about a lockout that never happened (outside review,
   * 2026-12-05). Only messages whose `user_id`, checked by RabbitMQ, names a trusted publisher are handled now.
   */
  it('events from a publisher not trusted (no user id, straight into the queue) go to the dead-letter queue unhandled; ours are handled', async () => {
    // Its own routing keys: the other probes (bound to auth.user.*) must not handle these events too.
    const probe = Object.assign(new Probe('forged-probe', () => false), { patterns: ['auth.forged.*'] });
    const forgedProbeEvent = (): IntegrationEvent => ({ ...newUserEvent(), type: 'auth.forged.probe' });
    const names = queueNames(queuePrefix, 'forged-probe');
    await consumer.start(probe);
    await eventually(async () => (await consumersOf(names.queue)) === 1);
    for (let round = 0; round < 5; round += 1) {
      const forged = forgedProbeEvent();
      publish(forged, {});
      let dead: Awaited<ReturnType<typeof deadLetter>> = null;
      await eventually(async () => (dead = await deadLetter('forged-probe')) !== null, 10_000, 'the forged event dead-lettered');
      expect(JSON.parse(dead!.content.toString()).id).toBe(forged.id);
      expect(dead!.properties.headers).toMatchObject({ 'dead-letter-reason': 'untrusted publisher' });
      // Not vouched for on the way: replaying the dead-letter queue must not make it trusted.
      expect(dead!.properties.userId).toBeUndefined();
      const straight = forgedProbeEvent();
      channel.sendToQueue(names.queue, Buffer.from(JSON.stringify(straight)), { persistent: true });
      await eventually(async () => (dead = await deadLetter('forged-probe')) !== null, 10_000, 'the event put straight into the queue dead-lettered');
      expect(JSON.parse(dead!.content.toString()).id).toBe(straight.id);
      const genuine = forgedProbeEvent();
      publish(genuine);
      await eventually(async () => (await emailsFor(genuine.id)) === 1, 10_000, 'the trusted event handled');
      expect(await emailsFor(forged.id)).toBe(0);
      expect(await emailsFor(straight.id)).toBe(0);
    }
    expect(probe.calls).toBe(5);
    expect(logger.lines.filter((l) => l.message.startsWith('event from an untrusted publisher') && l.fields['subscriber'] === 'forged-probe')).toHaveLength(10);
  });

  it("the broker refuses a user id other than the publisher's own: a trusted name cannot be claimed by another user", async () => {
    const confirm = await model.createConfirmChannel();
    const closed = new Promise<Error>((resolve) => confirm.on('error', resolve));
    confirm.publish(exchange, 'auth.user.updated', Buffer.from(JSON.stringify(newEvent())), { userId: `not-${userId}` });
    expect(String(await closed)).toMatch(/PRECONDITION_FAILED.*user_id/i);
  });

  it('a message that is not a CloudEvent goes to the dead-letter queue without reaching the handler', async () => {
    const probe = new Probe('malformed-probe', () => false);
    await consumer.start(probe);
    await eventually(async () => (await consumersOf(queueNames(queuePrefix, 'malformed-probe').queue)) === 1);
    publish('{not json');
    let dead: Awaited<ReturnType<typeof deadLetter>> = null;
    await eventually(async () => (dead = await deadLetter('malformed-probe')) !== null, 10_000);
    expect(dead!.properties.headers).toMatchObject({ 'dead-letter-reason': 'malformed event' });
    expect(probe.calls).toBe(0);
  });
});
