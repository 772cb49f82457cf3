import type { DomainEvent, EventData } from '@domain/shared/domain-event';

/** CloudEvents 1.0, structured JSON mode (CONTRACT §6). */
export interface CloudEvent {
  specversion: '1.0';
  id: string;
  source: 'auth-service';
  type: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  data: EventData;
}

export function toCloudEvent(event: DomainEvent, id: string): CloudEvent {
  return {
    specversion: '1.0',
    id,
    source: 'auth-service',
    type: event.type,
    subject: event.subject,
    time: event.occurredAt.toISOString(),
    datacontenttype: 'application/json',
    data: event.data,
  };
}
