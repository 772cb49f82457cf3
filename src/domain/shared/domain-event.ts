import type { EventPayloads, EventType } from './event-types';

/** A fact as the outbox stores it. Primitives only: it is serialised into the outbox as the CloudEvent `data`. */
export type EventData = Record<string, string | number | boolean | null | string[]>;

/** The outbox's view of an event (any type, any data): what writers, relays and subscribers move around. */
export interface DomainEvent {
  readonly type: string;
  /** The id of the entity the event is about (CloudEvent `subject`). */
  readonly subject: string;
  readonly occurredAt: Date;
  readonly data: EventData;
}

/** A fact recorded by an aggregate, typed by the catalogue: one member per event type, with its payload. */
export type RecordedEvent<T extends EventType = EventType> = {
  [K in T]: { readonly type: K; readonly subject: string; readonly occurredAt: Date; readonly data: EventPayloads[K] };
}[T];

export abstract class AggregateRoot {
  private recorded: RecordedEvent[] = [];

  protected record<T extends EventType>(type: T, subject: string, occurredAt: Date, data: EventPayloads[T]): void {
    this.recorded.push({ type, subject, occurredAt, data } as RecordedEvent);
  }

  /** Hands the recorded events to the caller (the repository writes them to the outbox) and forgets them. */
  pullEvents(): RecordedEvent[] {
    const events = this.recorded;
    this.recorded = [];
    return events;
  }
}
