import type { IntegrationEvent } from '@application/ports/event-publisher';
import type { Repositories } from '@application/ports/unit-of-work';

/** A driving adapter for events: turns an event into a call of application code. */
export interface EventSubscriber {
  /** Stable: names the subscriber's queues and its de-duplication records. */
  readonly name: string;
  /** Routing-key patterns (event types; `*` one word, `#` any number). */
  readonly patterns: readonly string[];
  /**
   * Runs inside the unit of work that records the event as processed by this subscriber: its writes through
   * `repos` commit with that record or not at all. Throw to have the event retried later.
   */
  handle(event: IntegrationEvent, repos: Repositories): Promise<void>;
}

/** Thrown for an event that can never be processed (e.g. data it cannot read): dead-lettered without retries. */
export class PermanentEventError extends Error {
  override name = 'PermanentEventError';
}
