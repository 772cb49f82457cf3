/**
 * Which subscriber has already processed which event (consumers de-duplicate by event `id`, CONTRACT §6).
 * Written through the unit of work, in the same transaction as the subscriber's own writes.
 */
export interface ProcessedEvents {
  /**
   * Records that `subscriber` processed `eventId`; false when it already had (a duplicate delivery). A
   * concurrent first attempt holds the other back until it commits or rolls back.
   */
  add(subscriber: string, eventId: string, at: Date): Promise<boolean>;
}
