import type { Channel, ChannelModel, ConfirmChannel } from 'amqplib';
import type { EventPublisher, IntegrationEvent, PublishReport } from '@application/ports/event-publisher';
import type { Logger } from '@application/ports/logger';
import type { AmqpConnection } from './amqp-connection';

export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8';

export interface AmqpPublisherOptions {
  /** Durable topic exchange; CONTRACT §6 names it `auth.events`. */
  exchange: string;
  /** A confirm that has not come by then counts as a failure (the event stays pending and is sent again). */
  confirmTimeoutMs?: number;
  /**
   * The broker user this connection logs in as (brokerUser(url)), stamped as each message's `user_id`: RabbitMQ
   * refuses a `user_id` other than the publisher's own, so consumers can tell the service's events from ones
   * anybody else with access to the exchange published.
   */
  userId: string;
  /**
   * Declares what must exist before anything is published, on a channel of its own, on every connection (the service's
   * own subscribers' queues: AmqpEventSubscriptions.declare). A failure is logged and publishing goes on.
   */
  declareFirst?: (channel: Channel) => Promise<void>;
}

/**
 * Publishes CloudEvents (structured mode) on a ConfirmChannel: persistent messages, routing key = type,
 * message id = event id. An event counts as published only when the broker acks it.
 */
export class AmqpEventPublisher implements EventPublisher {
  private channel: ConfirmChannel | null = null;
  /** The connection the broker has blocked (a memory or disk alarm: it reads nothing more from it), if any. */
  private blockedModel: ChannelModel | null = null;
  private readonly unblockedListeners: Array<() => void> = [];

  constructor(
    private readonly connection: AmqpConnection,
    private readonly options: AmqpPublisherOptions,
    private readonly logger: Logger,
  ) {
    void this.connection.onConnect(async (model) => {
      // RabbitMQ under a memory or disk alarm stops reading a publishing connection and says so (connection.blocked),
      // keeping it open. amqplib still takes every publish, into a buffer with no bound, and no confirm comes. Until
      // stop 56 the relay went on: each event's confirm timed out, its retry came, and it was buffered again, every
      // retry of the alarm, all delivered when the alarm ended, and all held in memory meanwhile (a review of stop
      // 55). Blocked, the publisher is unavailable: the relay claims nothing and backs off; unblocked wakes it.
      model.on('blocked', (reason: unknown) => {
        this.blockedModel = model;
        this.logger.warn({ reason: String(reason).slice(0, 120) }, 'AMQP broker blocked publishing (resource alarm); events wait in the outbox');
      });
      model.on('unblocked', () => {
        if (this.blockedModel !== model) return;
        this.blockedModel = null;
        this.logger.info({}, 'AMQP broker unblocked publishing');
        for (const listener of this.unblockedListeners) listener();
      });
      model.on('close', () => {
        if (this.blockedModel === model) this.blockedModel = null;
      });
      const channel = await model.createConfirmChannel();
      channel.on('error', (error: Error) => this.logger.warn({ err: error.message }, 'AMQP publish channel error'));
      channel.on('close', () => {
        if (this.channel === channel) this.channel = null;
        this.connection.reset(model, 'publish channel closed');
      });
      await channel.assertExchange(options.exchange, 'topic', { durable: true });
      if (options.declareFirst) await this.declareFirst(model, options.declareFirst);
      this.channel = channel;
    });
  }

  /**
   * The service's own subscribers' queues and bindings, declared before this connection publishes anything: a message
   * the broker routes to no queue is confirmed and dropped, so on a broker that had none yet (new, or rebuilt without
   * its definitions) the events published before the subscribers' connection declared them were lost to them (the
   * owner's security notices; a review of stop 60). On a channel of its own: a queue declared with other arguments
   * (PRECONDITION_FAILED closes the channel) fails the subscriber, which says so, and never stops the publishing.
   */
  private async declareFirst(model: ChannelModel, declare: (channel: Channel) => Promise<void>): Promise<void> {
    try {
      const channel = await model.createChannel();
      channel.on('error', () => undefined); // the failure comes back as the rejection below
      await declare(channel);
      await channel.close();
    } catch (error) {
      this.logger.warn({ err: error instanceof Error ? error.message : String(error) }, "AMQP: the service's own queues could not be declared before publishing");
    }
  }

  /** Connected, with the publish channel open, and not blocked by the broker. */
  isAvailable(): boolean {
    return this.channel !== null && this.blockedModel === null;
  }

  /** Calls `listener` each time the broker unblocks the connection (the relay's backoff ends then). */
  onUnblocked(listener: () => void): void {
    this.unblockedListeners.push(listener);
  }

  async publish(events: readonly IntegrationEvent[]): Promise<PublishReport> {
    const channel = this.channel;
    const outcomes = await Promise.all(
      events.map(async (event) => ({ id: event.id, error: channel ? await this.publishOne(channel, event) : 'broker not connected' })),
    );
    return {
      confirmed: outcomes.filter((o) => o.error === null).map((o) => o.id),
      failed: outcomes.flatMap((o) => (o.error === null ? [] : [{ id: o.id, error: o.error }])),
    };
  }

  /** Resolves with null on the broker's ack, else with why not (nack, channel closed, timeout). */
  private publishOne(channel: ConfirmChannel, event: IntegrationEvent): Promise<string | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve('no confirm in time'), this.options.confirmTimeoutMs ?? 10_000);
      timer.unref();
      const done = (error: string | null) => {
        clearTimeout(timer);
        resolve(error);
      };
      try {
        channel.publish(this.options.exchange, event.type, Buffer.from(JSON.stringify(event)), {
          persistent: true,
          contentType: CLOUDEVENTS_CONTENT_TYPE,
          messageId: event.id,
          type: event.type,
          appId: 'auth-service',
          userId: this.options.userId,
          timestamp: Math.floor(Date.parse(event.time) / 1000),
        }, (error: unknown) => done(error ? `not confirmed: ${error instanceof Error ? error.message : String(error)}` : null));
      } catch (error) {
        done(`publish failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
  }
}
