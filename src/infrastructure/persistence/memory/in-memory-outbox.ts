import { randomUUID } from 'node:crypto';
import type { DomainEvent } from '@domain/shared/domain-event';
import { toCloudEvent } from '../../messaging/cloud-event';
import { wakeAfterCommit } from '../after-commit';
import type { InMemoryDatabase } from './in-memory-database';

/** The in-memory outbox writer: rows roll back with the transaction's snapshot; the relay is woken after commit. */
export function appendToOutbox(db: InMemoryDatabase, events: DomainEvent[], now: Date): void {
  for (const event of events) {
    db.tables.outbox.push({ event: toCloudEvent(event, randomUUID()), createdAt: now, publishedAt: null });
  }
  if (events.length > 0) wakeAfterCommit(db, 'relay');
}
