import type { EventData } from '@domain/shared/domain-event';

/** CloudEvents 1.0, structured JSON mode (CONTRACT §6): what the relay publishes and what subscribers receive. */
export interface IntegrationEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: string;
  data: EventData;
}

/** What happened to each event of one publish call. */
export interface PublishReport {
  /** Ids the broker confirmed: it has taken responsibility for them (persisted, routed). */
  confirmed: string[];
  /** Ids it refused, or did not confirm in time; they stay pending and are published again later. */
  failed: { id: string; error: string }[];
}

/**
 * Hands events to the message broker (RabbitMQ, or the in-process bus in embedded mode). Used by the outbox
 * relay only: use cases never publish, they record events on aggregates and the unit of work writes the outbox.
 */
export interface EventPublisher {
  /** Whether a publish can succeed now; false while the broker is away (the relay waits instead of claiming rows). */
  isAvailable(): boolean;
  /** Resolves once every event is confirmed or failed; never throws for one event's failure. */
  publish(events: readonly IntegrationEvent[]): Promise<PublishReport>;
}
