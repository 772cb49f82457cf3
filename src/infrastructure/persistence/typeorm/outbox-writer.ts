import { randomUUID } from 'node:crypto';
import type { DomainEvent } from '@domain/shared/domain-event';
import { toCloudEvent } from '@infrastructure/messaging/cloud-event';
import { relayWakeFor } from '@infrastructure/messaging/relay-urgency';
import type { EntityManager } from 'typeorm';
import { wakeAfterCommit } from '../after-commit';
import { OutboxEventRecord } from './outbox-event.record';
import { appendRows } from './transaction-appends';

/**
 * Writes domain events to `outbox_events` through the given EntityManager, so that inside a unit of work they
 * commit or roll back with the change that caused them. A relay publishes them afterwards (at least once), woken
 * once the transaction has committed (at once, or within its batch delay for routine events: relay-urgency.ts). Inside a unit of work the rows wait for its end (transaction-appends.ts).
 */
export class TypeOrmOutboxWriter {
  constructor(private readonly manager: EntityManager) {}

  async write(events: readonly DomainEvent[]): Promise<void> {
    if (events.length === 0) return;
    const rows = events.map((event) => {
      const id = randomUUID();
      return {
        id,
        type: event.type,
        subject: event.subject,
        payload: toCloudEvent(event, id),
        createdAt: event.occurredAt, // the CloudEvent's time; the relay publishes oldest first, then in this order (seq)
        publishedAt: null,
        attempts: 0,
        lastError: null,
      };
    });
    await appendRows(this.manager, OutboxEventRecord, rows);
    wakeAfterCommit(this.manager, relayWakeFor(events));
  }
}
