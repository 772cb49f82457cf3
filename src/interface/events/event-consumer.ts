import type { ProcessEventOnce } from '@application/shared/process-event-once';
import type { EventDelivery, EventSubscriptions } from '@application/ports/event-subscriptions';
import type { Logger } from '@application/ports/logger';
import { retryDelayMs } from '@application/shared/retry-delay';
import { PermanentEventError, type EventSubscriber } from './event-subscriber';

export interface ConsumerPolicy {
  /** Deliveries in flight per subscriber. */
  prefetch: number;
  /** A delivery that failed this many times goes to the dead-letter queue. */
  maxAttempts: number;
  /** Retry delays: base · 2^(attempt-1), at most max, with jitter (retryDelayMs). */
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
}

export const DEFAULT_CONSUMER_POLICY: ConsumerPolicy = { prefetch: 10, maxAttempts: 5, retryBaseDelayMs: 1000, retryMaxDelayMs: 60_000 };

/**
 * What every subscriber gets, whatever the transport (RabbitMQ or the in-process bus): its own queue, manual
 * acknowledgement after the handler's transaction committed, de-duplication by event id, retries with growing
 * delays, and the dead-letter queue after `maxAttempts` failures.
 */
export class EventConsumer {
  private readonly policy: ConsumerPolicy;

  constructor(
    private readonly subscriptions: EventSubscriptions,
    private readonly once: ProcessEventOnce,
    private readonly logger: Logger,
    policy: Partial<ConsumerPolicy> = {},
  ) {
    this.policy = { ...DEFAULT_CONSUMER_POLICY, ...policy };
  }

  start(subscriber: EventSubscriber): Promise<void> {
    return this.subscriptions.subscribe(
      { name: subscriber.name, patterns: [...subscriber.patterns], prefetch: this.policy.prefetch },
      (delivery) => this.consume(subscriber, delivery),
    );
  }

  private async consume(subscriber: EventSubscriber, delivery: EventDelivery): Promise<void> {
    const { event, attempt } = delivery;
    const fields = { subscriber: subscriber.name, event_id: event.id, type: event.type, attempt };
    let failure: unknown = null;
    try {
      const first = await this.once.run(subscriber.name, event.id, (repos) => subscriber.handle(event, repos));
      if (!first) this.logger.info(fields, 'event already processed; duplicate delivery ignored');
    } catch (error) {
      failure = error;
    }
    // Outside the try: a lost ack is redelivered and then found processed, it is not a handler failure.
    if (failure === null) return delivery.ack();
    const reason = failure instanceof Error ? `${failure.name}: ${failure.message}` : String(failure);
    if (failure instanceof PermanentEventError || attempt >= this.policy.maxAttempts) {
      this.logger.error({ ...fields, reason }, 'event handling failed for good; moved to the dead-letter queue');
      return delivery.deadLetter(reason);
    }
    const delayMs = retryDelayMs(attempt, { baseMs: this.policy.retryBaseDelayMs, maxMs: this.policy.retryMaxDelayMs });
    this.logger.warn({ ...fields, reason, retry_in_ms: delayMs }, 'event handling failed; will retry');
    return delivery.retryLater(delayMs, reason);
  }
}
