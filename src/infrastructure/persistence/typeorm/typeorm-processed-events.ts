import type { ProcessedEvents } from '@application/ports/processed-events';
import type { EntityManager } from 'typeorm';

/**
 * ON CONFLICT DO NOTHING: a concurrent insert of the same key waits for the other transaction, then either
 * conflicts (it committed: a duplicate) or inserts (it rolled back: this one processes the event).
 */
export class TypeOrmProcessedEvents implements ProcessedEvents {
  constructor(private readonly manager: EntityManager) {}

  async add(subscriber: string, eventId: string, at: Date): Promise<boolean> {
    const rows: unknown[] = await this.manager.query(
      `INSERT INTO processed_events (subscriber, event_id, processed_at) VALUES ($1, $2, $3)
       ON CONFLICT (subscriber, event_id) DO NOTHING RETURNING event_id`,
      [subscriber, eventId, at],
    );
    return rows.length === 1;
  }
}
