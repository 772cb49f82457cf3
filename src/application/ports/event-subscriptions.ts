import type { IntegrationEvent } from './event-publisher';

/** One delivery of an event to one subscriber's queue; exactly one of the three verbs must be called. */
export interface EventDelivery {
  readonly event: IntegrationEvent;
  /** 1 on the first delivery; each retryLater() makes the next delivery count one more. */
  readonly attempt: number;
  /** Done: the message leaves the queue. */
  ack(): Promise<void>;
  /**
   * Failed for now: delivered again (attempt + 1), not before about `delayMs`; a longer delay of the same subscriber
   * asked for earlier may hold it back, by at most that delay (RabbitMQ expires a retry queue's messages at its head
   * only: docs/events.md, Retry).
   */
  retryLater(delayMs: number, reason: string): Promise<void>;
  /** Failed for good: moved to the subscriber's dead-letter queue with the reason, for a human to look at. */
  deadLetter(reason: string): Promise<void>;
}

export interface SubscriptionSpec {
  /** Names the subscriber's own durable queue (and its retry and dead-letter queues). */
  name: string;
  /** Routing-key patterns bound to the queue (topic syntax: `*` one word, `#` zero or more). */
  patterns: string[];
  /** How many deliveries may be in flight at once for this subscriber. */
  prefetch: number;
}

/**
 * The receiving side of the broker: each subscriber gets its own queue and handles its deliveries with
 * manual acknowledgement. Unparseable messages never reach the handler: the transport dead-letters them.
 */
export interface EventSubscriptions {
  subscribe(spec: SubscriptionSpec, onDelivery: (delivery: EventDelivery) => Promise<void>): Promise<void>;
}
