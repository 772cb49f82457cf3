import type { ProcessEventOnce } from '@application/shared/process-event-once';
import type { EventDelivery, EventSubscriptions } from '@application/ports/event-subscriptions';
import type { Logger } from '@application/ports/logger';
import { retryDelayMs } from '@application/shared/retry-delay';
import { dependencyUnreachable, transactionContended } from '../dependency-outage';
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
 * Attempts a delivery may take beyond `maxAttempts` while its failures are outages (the database or another server
 * unreachable, dependencyUnreachable): with delays capped at `retryMaxDelayMs` (a minute by default), about an hour
 * of outage before the dead-letter queue. Until 2026-12-02 a database failover of 8-15 s sent the security notices
 * in the queue to the dead-letter queue, which nothing consumes (an outside review): an outage is no poison message.
 */
export const OUTAGE_EXTRA_ATTEMPTS = 60;

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
    let handled = false;
    try {
      const first = await this.once.run(subscriber.name, event.id, (repos) => subscriber.handle(event, repos));
      if (!first) this.logger.info(fields, 'event already processed; duplicate delivery ignored');
      handled = true;
    } catch (error) {
      failure = error;
    }
    // Outside the try: a lost ack is redelivered and then found processed, it is not a handler failure. Whether it was
    // handled, not whether the failure is null: a handler rejecting with null was acked (until stop 65: a review).
    if (handled) return delivery.ack();
    const reason = failure instanceof Error ? `${failure.name}: ${failure.message}` : String(failure);
    // An outage, or a transaction rolled back for a concurrent one (nothing written, a retry is safe): not the event's fault.
    const allowed = this.policy.maxAttempts + (dependencyUnreachable(failure) || transactionContended(failure) ? OUTAGE_EXTRA_ATTEMPTS : 0);
    if (failure instanceof PermanentEventError || attempt >= allowed) {
      this.logger.error({ ...fields, reason }, 'event handling failed for good; moved to the dead-letter queue');
      return delivery.deadLetter(reason);
    }
    const delayMs = retryDelayMs(attempt, { baseMs: this.policy.retryBaseDelayMs, maxMs: this.policy.retryMaxDelayMs });
    this.logger.warn({ ...fields, reason, retry_in_ms: delayMs }, 'event handling failed; will retry');
    return delivery.retryLater(delayMs, reason);
  }
}
