import { randomUUID } from 'node:crypto';
import type { DomainEvent } from '@domain/shared/domain-event';
import { toCloudEvent } from '../../messaging/cloud-event';
import type { InMemoryDatabase } from './in-memory-database';

export function appendToOutbox(db: InMemoryDatabase, events: DomainEvent[], now: Date): void {
  for (const event of events) {
    db.tables.outbox.push({ event: toCloudEvent(event, randomUUID()), createdAt: now, publishedAt: null });
  }
}
