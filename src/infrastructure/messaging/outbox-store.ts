import type { IntegrationEvent, PublishReport } from '@application/ports/event-publisher';

export interface BatchOutcome {
  claimed: number;
  published: number;
}

export interface PendingStats {
  pending: number;
  oldestCreatedAt: Date | null;
}

/** The relay's view of the outbox table (PostgreSQL / PGlite, or the in-memory database of the unit tests). */
export interface OutboxStore {
  /**
   * Claims up to `limit` of the oldest pending events that no other relay holds, keeps them claimed while
   * `publish` runs, then marks the confirmed ones published (at `now`) and counts an attempt with the error on
   * the others, and releases the claim. A relay that dies while holding the claim releases it too (its
   * transaction aborts) and nothing is marked.
   */
  processBatch(limit: number, now: Date, publish: (events: IntegrationEvent[]) => Promise<PublishReport>): Promise<BatchOutcome>;
  pendingStats(): Promise<PendingStats>;
  /** Deletes published events older than `before`; returns how many. */
  purgePublished(before: Date): Promise<number>;
  /**
   * Deletes the subscribers' de-duplication records older than `before` (same retention: a redelivery is not
   * expected that late; replaying a dead letter older than that may run its handler twice).
   */
  purgeProcessed(before: Date): Promise<number>;
}
