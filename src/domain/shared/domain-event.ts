/** A fact recorded by an aggregate. Primitives only: it is serialised into the outbox as the CloudEvent `data`. */
export type EventData = Record<string, string | number | boolean | null | string[]>;

export interface DomainEvent {
  readonly type: string;
  /** The id of the entity the event is about (CloudEvent `subject`). */
  readonly subject: string;
  readonly occurredAt: Date;
  readonly data: EventData;
}

export abstract class AggregateRoot {
  private recorded: DomainEvent[] = [];

  protected record(type: string, subject: string, occurredAt: Date, data: EventData): void {
    this.recorded.push({ type, subject, occurredAt, data });
  }

  /** Hands the recorded events to the caller (the repository writes them to the outbox) and forgets them. */
  pullEvents(): DomainEvent[] {
    const events = this.recorded;
    this.recorded = [];
    return events;
  }
}
