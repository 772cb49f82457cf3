/**
 * The contract of the messaging ports (src/application/ports/event-publisher.ts, event-subscriptions.ts), run alike
 * on each of their adapters: the in-process bus of embedded mode (always) and RabbitMQ (AmqpEventPublisher and
 * AmqpEventSubscriptions on the real broker: selected at collection time, always under CI=true). Each test starts a
 * fresh transport (on RabbitMQ: an exchange and a queue prefix of its own, removed after it) and talks to it through
 * the ports only; dead letters are read back through an adapter-neutral view. Only what the ports' doc comments
 * promise is asserted: neither ordering nor de-duplication is (the consumer de-duplicates, see the last block).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { connect, type ChannelModel } from 'amqplib';
import type { EventPublisher, IntegrationEvent } from '@application/ports/event-publisher';
import type { EventDelivery, EventSubscriptions, SubscriptionSpec } from '@application/ports/event-subscriptions';
import type { Repositories } from '@application/ports/unit-of-work';
import { ProcessEventOnce } from '@application/shared/process-event-once';
import { InProcessEventBus } from '@infrastructure/messaging/memory/in-process-event-bus';
import { AmqpConnection } from '@infrastructure/messaging/rabbitmq/amqp-connection';
import { AmqpEventPublisher } from '@infrastructure/messaging/rabbitmq/amqp-event-publisher';
import { AmqpEventSubscriptions, queueNames } from '@infrastructure/messaging/rabbitmq/amqp-event-subscriptions';
import { brokerUser, TrustedPublishers } from '@infrastructure/messaging/rabbitmq/broker-user';
import { InMemoryDatabase } from '@infrastructure/persistence/memory/in-memory-database';
import { InMemoryUnitOfWork } from '@infrastructure/persistence/memory/in-memory-unit-of-work';
import { AesGcmSecretBox } from '@infrastructure/security/crypto/aes-gcm-secret-box';
import { SystemClock } from '@infrastructure/time/system-clock';
import { EventConsumer } from '@interface/events/event-consumer';
import { PermanentEventError, type EventSubscriber } from '@interface/events/event-subscriber';
import { RecordingLogger, eventually } from '../../support/events';
import { cleanupBroker, REAL_AMQP_URL, REAL_RABBIT_SELECTED, uniqueNames } from '../../support/servers';

/** A delivery left unsettled (its handler threw) is handed out again after this long, on either adapter. */
const REDELIVERY_MS = 50;
/** How long a test waits to see that nothing more arrives (both adapters deliver within milliseconds here). */
const QUIET_MS = 250;

/** A dead letter as every adapter can show it. */
interface DeadLetterView {
  event: IntegrationEvent;
  attempt: number;
  reason: string;
}

/** One fresh transport behind the two ports. */
interface Bus {
  publisher: EventPublisher;
  subscriptions: EventSubscriptions;
  /** What the subscriber's dead-letter queue received so far, oldest first. */
  deadLetters(subscriber: string): Promise<DeadLetterView[]>;
  /** The transport goes away for the publisher (closed; on RabbitMQ its connection). */
  closePublisher(): Promise<void>;
  stop(): Promise<void>;
}

interface BusAdapter {
  name: string;
  start(): Promise<Bus>;
}

const inProcess: BusAdapter = {
  name: 'the in-process bus',
  async start() {
    const bus = new InProcessEventBus(new RecordingLogger(), { redeliveryDelayMs: REDELIVERY_MS, closeDrainMs: 500 });
    bus.start(); // as the service does once its subscribers are in place; subscribe() still works after it
    return {
      publisher: bus,
      subscriptions: bus,
      deadLetters: async (subscriber) => bus.deadLetters(subscriber).map(({ event, attempt, reason }) => structuredClone({ event, attempt, reason })),
      closePublisher: () => bus.close(),
      stop: () => bus.close(),
    };
  },
};

/** Rejects with `what` when `promise` has not settled within `ms` (a broker that never answers fails, never hangs). */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** As config/messaging.ts wires it: a publishing and a consuming connection, trusting the user they log in as. */
const rabbitmq: BusAdapter = {
  name: 'RabbitMQ',
  async start() {
    const logger = new RecordingLogger();
    const { exchange, queuePrefix } = uniqueNames();
    const userId = brokerUser(REAL_AMQP_URL);
    const publishing = new AmqpConnection({ url: REAL_AMQP_URL }, logger);
    const consuming = new AmqpConnection({ url: REAL_AMQP_URL }, logger);
    const publisher = new AmqpEventPublisher(publishing, { exchange, userId }, logger);
    const subscriptions = new AmqpEventSubscriptions(
      consuming,
      { exchange, queuePrefix, userId, trustedPublishers: new TrustedPublishers([userId]), requeuePauseMs: REDELIVERY_MS },
      logger,
    );
    const subscribed = new Set<string>();
    const received = new Map<string, DeadLetterView[]>();
    publishing.start();
    consuming.start();
    let inspection: ChannelModel | null = null;
    const stop = async () => {
      await consuming.close();
      await publishing.close();
      await inspection?.close();
      await cleanupBroker(exchange, [...subscribed].flatMap((name) => Object.values(queueNames(queuePrefix, name))));
    };
    try {
      await within(10_000, `RabbitMQ at ${REAL_AMQP_URL.replace(/\/\/[^@]*@/, '//***@')}`, Promise.all([publishing.waitUntilConnected(), consuming.waitUntilConnected()]));
      inspection = await connect(REAL_AMQP_URL);
      inspection.on('error', () => undefined); // a lost connection shows as a failed read, with a clearer message
    } catch (error) {
      await stop();
      throw error;
    }
    return {
      publisher,
      // subscribe() runs its setup at once on the connected connection: the queue is declared, bound and consumed
      // when it resolves. The names are kept for the cleanup.
      subscriptions: {
        subscribe(spec: SubscriptionSpec, onDelivery: (delivery: EventDelivery) => Promise<void>) {
          subscribed.add(spec.name);
          return subscriptions.subscribe(spec, onDelivery);
        },
      },
      /** Drained from the queue (a plain channel of the test's own) and kept, so that later calls still show them. */
      async deadLetters(subscriber) {
        const channel = await inspection!.createChannel();
        try {
          const kept = received.get(subscriber) ?? [];
          for (;;) {
            const message = await channel.get(queueNames(queuePrefix, subscriber).deadLetter, { noAck: true });
            if (message === false) break;
            const headers = message.properties.headers ?? {};
            kept.push({ event: JSON.parse(message.content.toString('utf8')) as IntegrationEvent, attempt: Number(headers.attempt), reason: String(headers['dead-letter-reason']) });
          }
          received.set(subscriber, kept);
          return structuredClone(kept);
        } finally {
          await channel.close();
        }
      },
      closePublisher: () => publishing.close(),
      stop,
    };
  },
};

/** Every adapter of the ports: the in-process bus always, RabbitMQ when selected (always under CI=true). */
const ADAPTERS: BusAdapter[] = REAL_RABBIT_SELECTED ? [inProcess, rabbitmq] : [inProcess];

let seq = 0;

/** A CloudEvent with a payload of every kind of value EventData allows. */
function anEvent(type = 'auth.user.updated'): IntegrationEvent {
  seq += 1;
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: 'auth-service',
    type,
    subject: `user-${seq}`,
    time: new Date(Date.UTC(2026, 2, 1, 12, 0, seq % 60)).toISOString(),
    datacontenttype: 'application/json',
    data: { user_id: `user-${seq}`, n: seq, ratio: 0.25, verified: true, locked_until: null, amr: ['pwd', 'otp'], note: 'Zoë ✓ "quoted" \\ ünïcode' },
  };
}

interface Seen {
  /** A copy taken when it was handed out. */
  event: IntegrationEvent;
  attempt: number;
  at: number;
}

/** A subscriber's handler that records each delivery, then settles it as `settle` says. */
function recorder(settle: (delivery: EventDelivery) => Promise<void>) {
  const seen: Seen[] = [];
  return {
    seen,
    of: (id: string) => seen.filter((s) => s.event.id === id),
    onDelivery: async (delivery: EventDelivery) => {
      seen.push({ event: structuredClone(delivery.event), attempt: delivery.attempt, at: Date.now() });
      await settle(delivery);
    },
  };
}

const ack = (delivery: EventDelivery) => delivery.ack();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sorted = (values: string[]) => [...values].sort();

describe.each(ADAPTERS)('messaging ports on $name', (adapter) => {
  let bus: Bus;

  beforeEach(async () => {
    bus = await adapter.start();
  }, 20_000);

  afterEach(async () => {
    await bus.stop();
  }, 20_000);

  it('a published event reaches a subscriber bound to its type exactly once, every CloudEvent field intact, on attempt 1', async () => {
    const users = recorder(ack);
    await bus.subscriptions.subscribe({ name: 'users', patterns: ['auth.user.*'], prefetch: 10 }, users.onDelivery);
    const events = [anEvent('auth.user.registered'), anEvent('auth.user.updated')];
    expect(bus.publisher.isAvailable()).toBe(true);
    const report = await bus.publisher.publish(events);
    expect(sorted(report.confirmed)).toEqual(sorted(events.map((e) => e.id)));
    expect(report.failed).toEqual([]);
    await eventually(() => users.seen.length >= 2, 5000, 'both deliveries');
    await sleep(QUIET_MS); // nothing more: each is delivered once, and an acknowledged one never again
    expect(users.seen).toHaveLength(2);
    for (const event of events) {
      expect(users.of(event.id).map((s) => [s.event, s.attempt])).toEqual([[event, 1]]);
    }
  });

  it('routing follows the topic patterns (`*` one word, `#` zero or more): a subscriber of other types gets nothing', async () => {
    const users = recorder(ack);
    const revocations = recorder(ack);
    const locks = recorder(ack);
    const everything = recorder(ack);
    await bus.subscriptions.subscribe({ name: 'users', patterns: ['auth.user.*'], prefetch: 10 }, users.onDelivery);
    await bus.subscriptions.subscribe({ name: 'revocations', patterns: ['auth.#.revoked'], prefetch: 10 }, revocations.onDelivery);
    await bus.subscriptions.subscribe({ name: 'locks', patterns: ['auth.account.locked'], prefetch: 10 }, locks.onDelivery);
    await bus.subscriptions.subscribe({ name: 'everything', patterns: ['#'], prefetch: 10 }, everything.onDelivery);
    const types = ['auth.user.registered', 'auth.user', 'auth.user.mfa.enabled', 'auth.session.revoked', 'auth.revoked', 'auth.account.locked'];
    const report = await bus.publisher.publish(types.map((type) => anEvent(type)));
    expect(report.confirmed).toHaveLength(types.length);
    const typesOf = (r: ReturnType<typeof recorder>) => sorted(r.seen.map((s) => s.event.type));
    await eventually(() => everything.seen.length >= 6 && users.seen.length >= 1 && revocations.seen.length >= 2 && locks.seen.length >= 1, 5000, 'every routed delivery');
    await sleep(QUIET_MS);
    expect(typesOf(everything)).toEqual(sorted(types));
    expect(typesOf(users)).toEqual(['auth.user.registered']); // `*` is one word: neither `auth.user` nor `auth.user.mfa.enabled`
    expect(typesOf(revocations)).toEqual(['auth.revoked', 'auth.session.revoked']); // `#` is zero words too
    expect(typesOf(locks)).toEqual(['auth.account.locked']);
  });

  it('each subscriber has its own queue: both get the event, and what one handler does to its copy the other never sees', async () => {
    const meddler = recorder(async (delivery) => {
      delivery.event.data.user_id = 'someone else';
      delivery.event.subject = 'someone else';
      await delivery.ack();
    });
    const witness = recorder(ack);
    await bus.subscriptions.subscribe({ name: 'meddler', patterns: ['auth.user.*'], prefetch: 1 }, meddler.onDelivery);
    await bus.subscriptions.subscribe({ name: 'witness', patterns: ['auth.#'], prefetch: 1 }, witness.onDelivery);
    const event = anEvent();
    await bus.publisher.publish([event]);
    await eventually(() => meddler.seen.length === 1 && witness.seen.length === 1, 5000, 'one delivery to each');
    expect(meddler.seen[0]!.event).toEqual(event);
    expect(witness.seen[0]!.event).toEqual(event);
  });

  it('retryLater(delayMs, reason): delivered again with attempt + 1, not before about delayMs, the same event', async () => {
    const delayMs = 300;
    const flaky = recorder((delivery) => (delivery.attempt < 3 ? delivery.retryLater(delayMs, `failure ${delivery.attempt}`) : delivery.ack()));
    await bus.subscriptions.subscribe({ name: 'flaky', patterns: ['auth.user.*'], prefetch: 10 }, flaky.onDelivery);
    const event = anEvent();
    await bus.publisher.publish([event]);
    await eventually(() => flaky.seen.length >= 3, 5000, 'the third delivery');
    await sleep(QUIET_MS); // acknowledged on the third: never again
    expect(flaky.seen.map((s) => s.attempt)).toEqual([1, 2, 3]);
    expect(flaky.seen.map((s) => s.event)).toEqual([event, event, event]);
    for (let i = 1; i < 3; i += 1) expect(flaky.seen[i]!.at - flaky.seen[i - 1]!.at).toBeGreaterThanOrEqual(delayMs * 0.8);
    expect(await bus.deadLetters('flaky')).toEqual([]);
  });

  /**
   * The port: "not before about `delayMs`; a longer delay of the same subscriber asked for earlier may hold it back,
   * by at most that delay". A consumer's delays grow with the attempt (up to 60 s), so a message on its fifth attempt
   * waits beside fresh failures on their first. (The in-process bus keeps each delay; RabbitMQ's retry queue expires
   * messages at its head only, so there the short one waits for the long one: the port allows both.)
   */
  it("a short retryLater behind another message's longer one is delivered again within the longer delay, and not before its own", async () => {
    const longMs = 1500;
    const shortMs = 100;
    let slowWaiting = false;
    const retries = recorder(async (delivery) => {
      if (delivery.attempt > 1) return delivery.ack();
      const slow = delivery.event.type === 'auth.user.slow';
      await delivery.retryLater(slow ? longMs : shortMs, 'not yet');
      if (slow) slowWaiting = true;
    });
    await bus.subscriptions.subscribe({ name: 'retries', patterns: ['auth.user.*'], prefetch: 10 }, retries.onDelivery);
    const slow = anEvent('auth.user.slow');
    const fast = anEvent('auth.user.fast');
    await bus.publisher.publish([slow]);
    await eventually(() => slowWaiting, 5000, 'the slow event waiting for its retry');
    await bus.publisher.publish([fast]);
    await eventually(() => retries.of(fast.id).length >= 2, longMs + 5000, 'the fast event delivered again');
    const [first, second] = retries.of(fast.id);
    expect(second!.attempt).toBe(2);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(shortMs * 0.8);
    expect(second!.at - first!.at).toBeLessThan(longMs + 2500); // slack for a loaded worker
    await eventually(() => retries.of(slow.id).length >= 2, longMs + 5000, 'the slow event delivered again');
  }, 15_000);

  it('deadLetter(reason): never delivered again; the dead-letter queue holds the event as published, its attempt and the reason', async () => {
    const doomed = recorder((delivery) => (delivery.attempt === 1 ? delivery.retryLater(20, 'transient') : delivery.deadLetter('cannot read field x')));
    const fine = recorder(ack);
    await bus.subscriptions.subscribe({ name: 'doomed', patterns: ['auth.user.*'], prefetch: 10 }, doomed.onDelivery);
    await bus.subscriptions.subscribe({ name: 'fine', patterns: ['auth.user.*'], prefetch: 10 }, fine.onDelivery);
    const event = anEvent();
    await bus.publisher.publish([event]);
    await eventually(async () => (await bus.deadLetters('doomed')).length > 0, 5000, 'the dead letter');
    await sleep(QUIET_MS); // nothing more: neither another delivery nor another dead letter
    expect(await bus.deadLetters('doomed')).toEqual([{ event, attempt: 2, reason: 'cannot read field x' }]);
    expect(doomed.seen.map((s) => s.attempt)).toEqual([1, 2]);
    // Another subscriber's queue is not concerned.
    expect(fine.seen.map((s) => s.event)).toEqual([event]);
    expect(await bus.deadLetters('fine')).toEqual([]);
  });

  it('a delivery made again (retryLater) or dead-lettered carries the event as published, not what a handler did to its copy', async () => {
    const meddler = recorder(async (delivery) => {
      delivery.event.data.user_id = 'someone else';
      delivery.event.subject = 'someone else';
      await (delivery.attempt === 1 ? delivery.retryLater(20, 'transient') : delivery.deadLetter('gave up'));
    });
    await bus.subscriptions.subscribe({ name: 'meddler', patterns: ['auth.user.*'], prefetch: 10 }, meddler.onDelivery);
    const event = anEvent();
    await bus.publisher.publish([event]);
    let dead: DeadLetterView[] = [];
    await eventually(async () => (dead = await bus.deadLetters('meddler')).length > 0, 5000, 'the dead letter');
    expect(meddler.seen.map((s) => [s.attempt, s.event])).toEqual([[1, event], [2, event]]);
    expect(dead).toEqual([{ event, attempt: 2, reason: 'gave up' }]);
  });

  it('a delivery its handler leaves unsettled (it throws) is delivered again, the attempt unchanged (only retryLater counts one more)', async () => {
    let calls = 0;
    const thrower = recorder(async (delivery) => {
      calls += 1;
      if (calls === 1) throw new Error('lost before settling');
      await delivery.ack();
    });
    await bus.subscriptions.subscribe({ name: 'thrower', patterns: ['auth.user.*'], prefetch: 1 }, thrower.onDelivery);
    const event = anEvent();
    await bus.publisher.publish([event]);
    await eventually(() => thrower.seen.length >= 2, 5000, 'the delivery again');
    await sleep(QUIET_MS);
    expect(thrower.seen.map((s) => [s.attempt, s.event])).toEqual([[1, event], [1, event]]);
    expect(await bus.deadLetters('thrower')).toEqual([]);
  });

  it('a delivery settled before its handler throws stays settled: acknowledged or dead-lettered, it is not delivered again', async () => {
    const acks = recorder(async (delivery) => {
      await delivery.ack();
      throw new Error('after the ack');
    });
    const buries = recorder(async (delivery) => {
      await delivery.deadLetter('unreadable');
      throw new Error('after the dead letter');
    });
    await bus.subscriptions.subscribe({ name: 'acks', patterns: ['auth.acked.*'], prefetch: 1 }, acks.onDelivery);
    await bus.subscriptions.subscribe({ name: 'buries', patterns: ['auth.buried.*'], prefetch: 1 }, buries.onDelivery);
    const acked = anEvent('auth.acked.event');
    const buried = anEvent('auth.buried.event');
    await bus.publisher.publish([acked, buried]);
    await eventually(() => acks.seen.length >= 1 && buries.seen.length >= 1, 5000, 'one delivery to each');
    await sleep(Math.max(QUIET_MS, REDELIVERY_MS * 6));
    expect(acks.seen.map((s) => s.event)).toEqual([acked]); // "Done: the message leaves the queue"
    expect(buries.seen.map((s) => s.event)).toEqual([buried]);
    expect(await bus.deadLetters('buries')).toEqual([{ event: buried, attempt: 1, reason: 'unreadable' }]);
    expect(await bus.deadLetters('acks')).toEqual([]);
  });

  it('at most `prefetch` deliveries of a subscriber are in flight at once; the rest follow as they are settled', async () => {
    let inFlight = 0;
    let peak = 0;
    let open = false;
    const waiting: (() => void)[] = [];
    const slow = recorder(async (delivery) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      if (!open) await new Promise<void>((resolve) => waiting.push(resolve));
      await delivery.ack();
      inFlight -= 1;
    });
    const release = () => {
      open = true;
      waiting.splice(0).forEach((resolve) => resolve());
    };
    try {
      await bus.subscriptions.subscribe({ name: 'slow', patterns: ['auth.user.*'], prefetch: 2 }, slow.onDelivery);
      const events = Array.from({ length: 6 }, () => anEvent());
      await bus.publisher.publish(events);
      await eventually(() => inFlight === 2, 5000, 'two deliveries in flight');
      await sleep(QUIET_MS);
      expect(inFlight).toBe(2);
      expect(slow.seen).toHaveLength(2);
      release();
      await eventually(() => slow.seen.length >= 6 && inFlight === 0, 5000, 'the rest handled');
      expect(peak).toBe(2);
      expect(sorted(slow.seen.map((s) => s.event.id))).toEqual(sorted(events.map((e) => e.id)));
    } finally {
      release();
    }
  });

  it('with the transport gone, isAvailable() is false and publish reports every event failed, without throwing', async () => {
    expect(bus.publisher.isAvailable()).toBe(true);
    await bus.closePublisher();
    await eventually(() => !bus.publisher.isAvailable(), 5000, 'the publisher unavailable');
    const events = [anEvent(), anEvent()];
    const report = await bus.publisher.publish(events);
    expect(report.confirmed).toEqual([]);
    expect(sorted(report.failed.map((f) => f.id))).toEqual(sorted(events.map((e) => e.id)));
    for (const failure of report.failed) expect(failure.error).toMatch(/\S/);
  });

  /**
   * The consumer's policy (src/interface/events/event-consumer.ts), which "every subscriber gets, whatever the
   * transport": its retries, dead letters and outage allowance ride on the port's attempt counting and verbs.
   * De-duplication by the in-memory unit of work (a real UnitOfWork; the transport is what is under test here).
   */
  describe('EventConsumer over the port', () => {
    const MAX_ATTEMPTS = 3;
    let db: InMemoryDatabase;
    let logger: RecordingLogger;
    let consumer: EventConsumer;

    /** Writes an email named after the event through the unit of work, then fails on the calls `failure` says. */
    class Probe implements EventSubscriber {
      readonly name = 'probe';
      readonly patterns = ['auth.user.*'];
      calls = 0;
      constructor(private readonly failure: (call: number) => Error | null) {}
      async handle(event: IntegrationEvent, repos: Repositories): Promise<void> {
        this.calls += 1;
        await repos.emails.enqueue({ to: 'ops@example.com', subject: event.id, text: 't', html: '<p>h</p>' });
        const error = this.failure(this.calls);
        if (error) throw error;
      }
    }

    const emailsFor = (eventId: string) => [...db.tables.emails.values()].filter((e) => e.subject === eventId).length;
    const outage = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

    beforeEach(() => {
      db = new InMemoryDatabase();
      logger = new RecordingLogger();
      const clock = new SystemClock();
      const uow = new InMemoryUnitOfWork(db, { secretBox: new AesGcmSecretBox(randomBytes(32)), clock });
      consumer = new EventConsumer(bus.subscriptions, new ProcessEventOnce(uow, clock), logger, {
        prefetch: 4,
        maxAttempts: MAX_ATTEMPTS,
        retryBaseDelayMs: 20,
        retryMaxDelayMs: 50,
      });
    });

    it('a handler that fails twice is retried and then handled: its writes committed once, nothing dead-lettered', async () => {
      const probe = new Probe((call) => (call <= 2 ? new Error(`handler failure ${call}`) : null));
      await consumer.start(probe);
      const event = anEvent();
      await bus.publisher.publish([event]);
      await eventually(() => emailsFor(event.id) === 1, 5000, 'the event handled');
      await sleep(QUIET_MS);
      expect(probe.calls).toBe(3);
      expect(emailsFor(event.id)).toBe(1);
      expect(await bus.deadLetters('probe')).toEqual([]);
      expect(logger.lines.filter((l) => l.message === 'event handling failed; will retry').map((l) => l.fields['attempt'])).toEqual([1, 2]);
    });

    it('a handler that always fails is dead-lettered after maxAttempts, with the last reason, and nothing committed', async () => {
      const probe = new Probe((call) => new Error(`handler failure ${call}`));
      await consumer.start(probe);
      const event = anEvent();
      await bus.publisher.publish([event]);
      await eventually(async () => (await bus.deadLetters('probe')).length > 0, 5000, 'the dead letter');
      await sleep(QUIET_MS);
      expect(await bus.deadLetters('probe')).toEqual([{ event, attempt: MAX_ATTEMPTS, reason: `Error: handler failure ${MAX_ATTEMPTS}` }]);
      expect(probe.calls).toBe(MAX_ATTEMPTS);
      expect(emailsFor(event.id)).toBe(0);
    });

    it('a permanent error is dead-lettered on the first attempt, never retried', async () => {
      const probe = new Probe(() => new PermanentEventError('no such field'));
      await consumer.start(probe);
      const event = anEvent();
      await bus.publisher.publish([event]);
      await eventually(async () => (await bus.deadLetters('probe')).length > 0, 5000, 'the dead letter');
      await sleep(QUIET_MS);
      expect(await bus.deadLetters('probe')).toEqual([{ event, attempt: 1, reason: 'PermanentEventError: no such field' }]);
      expect(probe.calls).toBe(1);
    });

    it('an outage (the database unreachable) is retried past maxAttempts, and the event handled once it ends', async () => {
      const probe = new Probe((call) => (call <= MAX_ATTEMPTS + 2 ? outage() : null));
      await consumer.start(probe);
      const event = anEvent();
      await bus.publisher.publish([event]);
      await eventually(() => emailsFor(event.id) === 1, 10_000, 'the event handled after the outage');
      expect(probe.calls).toBe(MAX_ATTEMPTS + 3);
      expect(await bus.deadLetters('probe')).toEqual([]);
    });

    it('the same event delivered twice (at-least-once) is handled once', async () => {
      const probe = new Probe(() => null);
      await consumer.start(probe);
      const event = anEvent();
      await bus.publisher.publish([event]);
      await eventually(() => emailsFor(event.id) === 1, 5000, 'the first handling');
      await bus.publisher.publish([event]);
      await eventually(() => logger.messages().includes('event already processed; duplicate delivery ignored'), 5000, 'the duplicate seen');
      expect(probe.calls).toBe(1);
      expect(emailsFor(event.id)).toBe(1);
      expect(await bus.deadLetters('probe')).toEqual([]);
    });
  });
});
