import type { Repositories, UnitOfWork } from '@application/ports/unit-of-work';

/**
 * Tells the outbox relay after each commit, so that the events just written leave within milliseconds instead
 * of at the next poll. Other instances' commits are still found by polling.
 */
export class RelayWakingUnitOfWork implements UnitOfWork {
  constructor(
    private readonly inner: UnitOfWork,
    private readonly onCommit: () => void,
  ) {}

  async run<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    const result = await this.inner.run(work);
    this.onCommit();
    return result;
  }
}
