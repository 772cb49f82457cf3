import type { ProcessedEvents } from '@application/ports/processed-events';
import type { InMemoryDatabase } from './in-memory-database';

/** Unique (subscriber, event id), like the table's primary key; rolled back with the unit of work's snapshot. */
export class InMemoryProcessedEvents implements ProcessedEvents {
  constructor(private readonly db: InMemoryDatabase) {}

  async add(subscriber: string, eventId: string, at: Date): Promise<boolean> {
    const key = `${subscriber}\n${eventId}`;
    if (this.db.tables.processedEvents.has(key)) return false;
    this.db.tables.processedEvents.set(key, at);
    return true;
  }
}
