import type { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { IntegrationEvent } from '@application/ports/event-publisher';
import type { EventDelivery, EventSubscriptions, SubscriptionSpec } from '@application/ports/event-subscriptions';
import type { Logger } from '@application/ports/logger';
import { parseIntegrationEvent } from '../parse-event';
import type { AmqpConnection } from './amqp-connection';
import { queueArguments, queueNames, withArguments, type QueueNames } from './amqp-queue-topology';
import type { TrustedPublishers } from './broker-user';

export { queueArguments, queueNames, type QueueNames } from './amqp-queue-topology';

export interface AmqpSubscriptionOptions {
  exchange: string;
  /** Queue names: `<prefix><subscriber>`, with `.retry` and `.dlq` beside each. */
  queuePrefix: string;
  /** classic (default: what earlier versions declared) or quorum (replicated; RabbitMQ 3.10 or later). */
  queueType?: 'classic' | 'quorum';
  confirmTimeoutMs?: number;
  /**
   * A delivery left unsettled by a failed move (no confirm in time, the broker refused the copy) goes back to its
   * queue after this pause (default 1000 ms): settled, or it would hold a prefetch place until the connection ends.
   * The pause doubles for each such failure of the same message in a row, up to 60 s: a broker refusing every copy
   * for a long time sees each stuck message about once a minute, not once a second.
   */
  requeuePauseMs?: number;
  /**
   * How often each consumer declares the exchange and its bindings again (default 60 s; idempotent, one round trip
   * each): an exchange deleted and re-declared by someone else (another service, an operator) comes back without our
   * bindings, and the broker would route every event to no queue until a reconnect.
   */
  rebindIntervalMs?: number;
  /** The broker user this connection logs in as (brokerUser(url)): the `user_id` of the copies it makes (retries). */
  userId: string;
  /**
   * Whose messages are handed to subscribers (by the `user_id` RabbitMQ validated). Any other message, one without a
   * `user_id` included, goes to the dead-letter queue unhandled: anyone allowed to publish to the exchange (or
   * straight into a queue) could otherwise make the service mail security notices about any account.
   */
  trustedPublishers: TrustedPublishers;
}

const MAX_REQUEUE_PAUSE_MS = 60_000;
/** Messages whose moves keep failing, remembered for their growing pause (the oldest forgotten beyond this). */
const MAX_UNMOVED_REMEMBERED = 1000;

/**
 * Per subscriber: a durable queue bound to the exchange by routing-key pattern, consumed with manual ack and
 * prefetch; a retry queue whose messages expire (per-message TTL = the delay) and dead-letter back into the
 * queue; a dead-letter queue. Moving a message (retry, dead letter) is confirmed before the original is acked,
 * so a crash in between duplicates it (subscribers de-duplicate) but never loses it.
 */
export class AmqpEventSubscriptions implements EventSubscriptions {
  /** Message id -> moves failed in a row (for the requeue pause). */
  private readonly unmoved = new Map<string, number>();

  constructor(
    private readonly connection: AmqpConnection,
    private readonly options: AmqpSubscriptionOptions,
    private readonly logger: Logger,
  ) {}

  async subscribe(spec: SubscriptionSpec, onDelivery: (delivery: EventDelivery) => Promise<void>): Promise<void> {
    const names = queueNames(this.options.queuePrefix, spec.name);
    await this.connection.onConnect(async (model) => {
      const channel = await model.createConfirmChannel();
      channel.on('error', (error: Error) => this.logger.warn({ err: error.message, subscriber: spec.name }, 'AMQP consumer channel error'));
      channel.on('close', () => this.connection.reset(model, `consumer channel of ${spec.name} closed`));
      await this.declare(channel, spec);
      this.keepBound(channel, spec, names.queue);
      await channel.prefetch(spec.prefetch);
      await channel.consume(names.queue, (message) => {
        // null: the broker cancelled the consumer (its queue was deleted); start over, which re-declares it.
        if (message === null) this.connection.reset(model, `consumer of ${spec.name} cancelled by the broker`);
        else void this.deliver(channel, names, message, spec.name, onDelivery);
      }, { noAck: false });
    });
  }

  /**
   * The exchange, a subscriber's three queues and its queue's bindings, as subscribe() declares them. The publisher
   * declares the service's own subscribers' too, before it publishes (config/messaging.ts).
   */
  async declare(channel: Channel, spec: { name: string; patterns: readonly string[] }): Promise<void> {
    const names = queueNames(this.options.queuePrefix, spec.name);
    await channel.assertExchange(this.options.exchange, 'topic', { durable: true });
    const args = queueArguments(this.options.queueType ?? 'classic', names);
    await channel.assertQueue(names.queue, { durable: true, ...withArguments(args.queue) });
    await channel.assertQueue(names.retry, { durable: true, ...withArguments(args.retry) });
    await channel.assertQueue(names.deadLetter, { durable: true, ...withArguments(args.deadLetter) });
    for (const pattern of spec.patterns) await channel.bindQueue(names.queue, this.options.exchange, pattern);
  }

  /** Re-declares the exchange and the queue's bindings every rebindIntervalMs while the channel is open. */
  private keepBound(channel: ConfirmChannel, spec: SubscriptionSpec, queue: string): void {
    const rebind = async () => {
      await channel.assertExchange(this.options.exchange, 'topic', { durable: true });
      for (const pattern of spec.patterns) await channel.bindQueue(queue, this.options.exchange, pattern);
    };
    const timer = setInterval(() => {
      // A failure closes the channel (and so the connection starts over); nothing more to do here.
      rebind().catch((error: unknown) => this.logger.warn({ err: error instanceof Error ? error.message : String(error), subscriber: spec.name }, 'AMQP re-binding failed'));
    }, this.options.rebindIntervalMs ?? 60_000);
    timer.unref();
    channel.on('close', () => clearInterval(timer));
  }

  private async deliver(
    channel: ConfirmChannel,
    names: QueueNames,
    message: ConsumeMessage,
    subscriber: string,
    onDelivery: (delivery: EventDelivery) => Promise<void>,
  ): Promise<void> {
    const headers = message.properties.headers ?? {};
    const attempt = Number(headers.attempt ?? 1) || 1;
    const settled = { done: false };
    if (!this.options.trustedPublishers.trusts(message.properties.userId)) {
      await this.refuseUntrusted(channel, names, message, settled, subscriber, attempt);
      return;
    }
    const event = parseIntegrationEvent(message.content);
    try {
      if (event === null) {
        await this.move(channel, message, settled, names.deadLetter, { attempt, 'dead-letter-reason': 'malformed event' });
        return;
      }
      await onDelivery(this.delivery(channel, names, message, settled, event, attempt));
    } catch (error) {
      this.logger.warn({ err: error instanceof Error ? error.message : String(error), subscriber }, 'delivery not settled');
      if (!settled.done) this.requeueLater(channel, message, settled);
    }
  }

  /**
   * A message from a publisher not trusted: to the dead-letter queue as it came, without a `user_id` of ours (a
   * replay of the dead-letter queue must not make it trusted), for an operator to look at; never handled.
   */
  private async refuseUntrusted(channel: ConfirmChannel, names: QueueNames, message: ConsumeMessage, settled: { done: boolean }, subscriber: string, attempt: number): Promise<void> {
    const claimed = message.properties.userId;
    this.logger.warn(
      { subscriber, message_id: clip(String(message.properties.messageId ?? '')), user_id: typeof claimed === 'string' ? clip(claimed) : null },
      'event from an untrusted publisher dead-lettered unhandled (AMQP_TRUSTED_PUBLISHERS)',
    );
    try {
      await this.move(channel, message, settled, names.deadLetter, {
        attempt,
        'dead-letter-reason': 'untrusted publisher',
        'dead-lettered-at': new Date().toISOString(),
      }, undefined, false);
    } catch (error) {
      this.logger.warn({ err: error instanceof Error ? error.message : String(error), subscriber }, 'delivery not settled');
      if (!settled.done) this.requeueLater(channel, message, settled);
    }
  }

  /**
   * Not moved (no confirm in time, the broker refused the copy) while the channel may still be open: the original is
   * given back to its queue after a pause, or it would hold a prefetch place for good (ten such, and the subscriber
   * would get nothing more while its connection looked healthy). A copy confirmed late makes a duplicate, which
   * subscribers de-duplicate. On a channel that went away the nack fails, and the broker redelivers the unacked
   * message on the next connection anyway.
   */
  private requeueLater(channel: ConfirmChannel, message: ConsumeMessage, settled: { done: boolean }): void {
    const id = typeof message.properties.messageId === 'string' ? message.properties.messageId : null;
    const failures = (id === null ? 0 : (this.unmoved.get(id) ?? 0)) + 1;
    if (id !== null) {
      this.unmoved.delete(id);
      this.unmoved.set(id, failures);
      if (this.unmoved.size > MAX_UNMOVED_REMEMBERED) this.unmoved.delete(this.unmoved.keys().next().value as string);
    }
    const pause = Math.min(MAX_REQUEUE_PAUSE_MS, (this.options.requeuePauseMs ?? 1000) * 2 ** (failures - 1));
    const timer = setTimeout(() => {
      if (settled.done) return;
      settled.done = true;
      try {
        channel.nack(message, false, true);
      } catch {
        // The channel is closed: nothing to settle on it.
      }
    }, pause);
    timer.unref();
  }

  private delivery(channel: ConfirmChannel, names: QueueNames, message: ConsumeMessage, settled: { done: boolean }, event: IntegrationEvent, attempt: number): EventDelivery {
    return {
      event,
      attempt,
      ack: async () => {
        settled.done = true;
        channel.ack(message);
        if (typeof message.properties.messageId === 'string') this.unmoved.delete(message.properties.messageId);
      },
      retryLater: (delayMs, reason) =>
        this.move(channel, message, settled, names.retry, { attempt: attempt + 1, 'last-error': clip(reason) }, String(Math.max(0, Math.round(delayMs)))),
      deadLetter: (reason) =>
        this.move(channel, message, settled, names.deadLetter, {
          attempt,
          'dead-letter-reason': clip(reason),
          'dead-lettered-at': new Date().toISOString(),
        }),
    };
  }

  /**
   * Copies the message to `queue` with extra headers, waits for the broker's confirm, then acks the original. The copy
   * carries our own `user_id` when `vouch` (a trusted event comes back from the retry queue still trusted).
   */
  private async move(
    channel: ConfirmChannel,
    message: ConsumeMessage,
    settled: { done: boolean },
    queue: string,
    headers: Record<string, unknown>,
    expiration?: string,
    vouch = true,
  ): Promise<void> {
    const p = message.properties;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no confirm in time')), this.options.confirmTimeoutMs ?? 10_000);
      timer.unref();
      channel.sendToQueue(queue, message.content, {
        persistent: true,
        contentType: p.contentType,
        messageId: p.messageId,
        type: p.type,
        appId: p.appId,
        timestamp: p.timestamp,
        ...(vouch ? { userId: this.options.userId } : {}),
        headers: { ...p.headers, ...headers },
        ...(expiration === undefined ? {} : { expiration }),
      }, (error: unknown) => {
        clearTimeout(timer);
        if (error) reject(error instanceof Error ? error : new Error(String(error)));
        else resolve();
      });
    });
    settled.done = true;
    channel.ack(message);
    if (typeof p.messageId === 'string') this.unmoved.delete(p.messageId);
  }
}

function clip(reason: string): string {
  return reason.length > 500 ? `${reason.slice(0, 500)}…` : reason;
}
