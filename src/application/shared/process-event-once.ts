import type { Clock } from '../ports/clock';
import type { Repositories, UnitOfWork } from '../ports/unit-of-work';

/**
 * De-duplication of deliveries (at-least-once in, effectively once out): the subscriber's writes and the record
 * that it processed the event commit in one transaction, so a redelivered event finds the record and does
 * nothing, and a failed attempt leaves no record and is processed again.
 */
export class ProcessEventOnce {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
  ) {}

  /** False when `subscriber` had already processed `eventId` (then `work` does not run). */
  run(subscriber: string, eventId: string, work: (repos: Repositories) => Promise<void>): Promise<boolean> {
    return this.uow.run(async (repos) => {
      if (!(await repos.processedEvents.add(subscriber, eventId, this.clock.now()))) return false;
      await work(repos);
      return true;
    });
  }
}
