import type { IntegrationEvent, PublishReport } from '@application/ports/event-publisher';

export interface BatchOutcome {
  claimed: number;
  published: number;
}

export interface PendingStats {
  pending: number;
  oldestCreatedAt: Date | null;
}

/** A claimed event the broker refused or did not confirm: it stays pending until its own retry time. */
export interface RefusedEvent {
  id: string;
  type: string;
  /** Attempts so far, this one included (1 after the first refusal). */
  attempts: number;
  error: string;
}

/** When a refused event is due again (the relay's capped exponential backoff on its attempts). */
export type RetrySchedule = (refused: RefusedEvent) => Date;

/** The relay's view of the outbox table (PostgreSQL / PGlite, or the in-memory database of the unit tests). */
export interface OutboxStore {
  /**
   * Claims up to `limit` pending events that are due at `now` and that no other relay holds, keeps them claimed
   * while `publish` runs, then marks the confirmed ones published (at `now`), counts an attempt with the error on
   * the others and sets when each of those is due again (`retryAt`; without it, at `now`: due at once), and
   * releases the claim. A relay that dies while holding the claim releases it too (its transaction aborts) and
   * nothing is marked.
   *
   * Claim order: events never refused first, oldest first, then in the order they were recorded (created_at, seq: the
   * events of one commit share their created_at); then refused events whose retry time has
   * come, earliest retry time first. An event that is not yet due is skipped: it never holds back the ones behind it.
   */
  processBatch(limit: number, now: Date, publish: (events: IntegrationEvent[]) => Promise<PublishReport>, retryAt?: RetrySchedule): Promise<BatchOutcome>;
  pendingStats(): Promise<PendingStats>;
  /**
   * Deletes published events older than `before`; returns how many. With `maxRows`, at most that many (the
   * relay purges in slices between its batches and calls again while a slice comes back full).
   */
  purgePublished(before: Date, maxRows?: number): Promise<number>;
  /**
   * Deletes the subscribers' de-duplication records older than `before` (same retention: a redelivery is not
   * expected that late; replaying a dead letter older than that may run its handler twice); at most `maxRows`.
   */
  purgeProcessed(before: Date, maxRows?: number): Promise<number>;
}
