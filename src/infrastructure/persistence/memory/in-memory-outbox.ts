import { randomUUID } from 'node:crypto';
import type { DomainEvent } from '@domain/shared/domain-event';
import { toCloudEvent } from '../../messaging/cloud-event';
import { relayWakeFor } from '../../messaging/relay-urgency';
import { wakeAfterCommit } from '../after-commit';
import type { InMemoryDatabase } from './in-memory-database';

/**
 * Each row is timestamped with its event's `occurredAt`, as the SQL outbox writer does (the relay publishes
 * oldest first). `_legacyNow` is what callers used to pass as the row time; it is no longer used. The relay is woken after commit (at once, or within its batch delay: relay-urgency.ts).
 */
export function appendToOutbox(db: InMemoryDatabase, events: DomainEvent[], _legacyNow?: Date): void {
  for (const event of events) {
    db.tables.outbox.push({ event: toCloudEvent(event, randomUUID()), createdAt: event.occurredAt, publishedAt: null });
  }
  if (events.length > 0) wakeAfterCommit(db, relayWakeFor(events));
}
