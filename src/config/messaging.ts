import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { Channel } from 'amqplib';
import type { EventPublisher } from '@application/ports/event-publisher';
import type { EventSubscriptions } from '@application/ports/event-subscriptions';
import { InProcessEventBus } from '@infrastructure/messaging/memory/in-process-event-bus';
import { OutboxRelay, type OutboxRelayOptions } from '@infrastructure/messaging/outbox-relay';
import { AmqpConnection } from '@infrastructure/messaging/rabbitmq/amqp-connection';
import { AmqpEventPublisher } from '@infrastructure/messaging/rabbitmq/amqp-event-publisher';
import { AmqpEventSubscriptions } from '@infrastructure/messaging/rabbitmq/amqp-event-subscriptions';
import { brokerUser, TrustedPublishers } from '@infrastructure/messaging/rabbitmq/broker-user';
import { TypeOrmOutboxStore } from '@infrastructure/persistence/typeorm/typeorm-outbox-store';
import { OWN_SUBSCRIPTIONS } from '@interface/events/own-subscriptions';
import { SystemClock } from '@infrastructure/time/system-clock';
import type { AppConfig } from './env';

export interface Messaging {
  publisher: EventPublisher;
  subscriptions: EventSubscriptions;
  relay: OutboxRelay;
  /** 'in-process' in embedded mode (AMQP_URL unset). */
  transport: 'rabbitmq' | 'in-process';
  /** For /health/ready: the broker connection (the in-process bus is up while the process is). */
  broker(): 'up' | 'down';
  /** Call once every subscriber is subscribed: the in-process bus holds deliveries until then. */
  startDelivery(): void;
  close(): Promise<void>;
}

/**
 * The event transport (RabbitMQ when AMQP_URL is set, else the in-process bus) and the outbox relay, started.
 * Nothing here waits for the broker: the service starts while it is away and the relay catches up later.
 */
export function startMessaging(
  config: AppConfig,
  logger: Logger,
  dataSource: DataSource,
  relayOptions: Partial<OutboxRelayOptions> = {},
  /** false: the relay is made but never started, and no broker connection is opened (the CLI). */
  relay = true,
): Messaging {
  const log = logger.child({ component: 'events' });
  // Wall-clock time, not the application's clock: publication times, retention and lag are operational facts,
  // and a test that moves the domain clock by weeks must not have the relay purge what it just published.
  const relayWith = (publisher: EventPublisher) =>
    new OutboxRelay(new TypeOrmOutboxStore(dataSource), publisher, new SystemClock(), log, {
      retentionMs: config.events.outboxRetentionSeconds * 1000,
      ...relayOptions,
    });
  if (config.amqpUrl === null) {
    const bus = new InProcessEventBus(log);
    const busRelay = relayWith(bus);
    if (relay) busRelay.start();
    return {
      publisher: bus,
      subscriptions: bus,
      relay: busRelay,
      transport: 'in-process',
      broker: () => 'up',
      startDelivery: () => bus.start(),
      async close() {
        await busRelay.stop();
        await bus.close();
      },
    };
  }
  // Two connections: a publisher slowed down by the broker's flow control never holds back the consumers.
  const publishing = new AmqpConnection({ url: config.amqpUrl }, log);
  const consuming = new AmqpConnection({ url: config.amqpUrl }, log);
  const userId = brokerUser(config.amqpUrl);
  const subscriptions = new AmqpEventSubscriptions(consuming, {
    exchange: config.events.exchange,
    queuePrefix: config.events.queuePrefix,
    queueType: config.events.queueType,
    userId,
    trustedPublishers: new TrustedPublishers(config.events.trustedPublishers.length > 0 ? config.events.trustedPublishers : [userId]),
  }, log);
  // The service's own subscribers' queues exist before its first publish (AmqpEventPublisher.declareFirst).
  const declareFirst = async (channel: Channel) => {
    for (const spec of OWN_SUBSCRIPTIONS) await subscriptions.declare(channel, spec);
  };
  const publisher = new AmqpEventPublisher(publishing, { exchange: config.events.exchange, userId, declareFirst }, log);
  const amqpRelay = relayWith(publisher);
  // The broker back (the publish channel up again) ends the relay's backoff at once: the events of the outage go out.
  publishing.onReady(() => amqpRelay.wake());
  // So does the broker's end of a resource alarm (the publisher was blocked: unavailable, the relay backing off).
  publisher.onUnblocked(() => amqpRelay.wake());
  if (relay) {
    publishing.start();
    consuming.start();
    amqpRelay.start();
  }
  return {
    publisher,
    subscriptions,
    relay: amqpRelay,
    transport: 'rabbitmq',
    broker: () => (publisher.isAvailable() ? 'up' : 'down'),
    startDelivery: () => undefined,
    async close() {
      await consuming.close();
      await amqpRelay.stop();
      await publishing.close();
    },
  };
}
