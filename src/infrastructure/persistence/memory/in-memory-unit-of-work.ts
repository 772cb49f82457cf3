import type { Repositories, UnitOfWork } from '@application/ports/unit-of-work';
import type { InMemoryDatabase } from './in-memory-database';
import { InMemoryOneTimeTokenRepository } from './in-memory-one-time-token.repository';
import { InMemorySessionRepository } from './in-memory-session.repository';
import { InMemoryUserRepository } from './in-memory-user.repository';

export function inMemoryRepositories(db: InMemoryDatabase): Repositories {
  return {
    users: new InMemoryUserRepository(db),
    sessions: new InMemorySessionRepository(db),
    oneTimeTokens: new InMemoryOneTimeTokenRepository(db),
  };
}

/**
 * Serialisable transactions: one at a time (which is also the row lock), all-or-nothing by restoring a
 * snapshot of the tables when the work throws.
 */
export class InMemoryUnitOfWork implements UnitOfWork {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly db: InMemoryDatabase) {}

  run<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    const result = this.tail.then(async () => {
      const snapshot = this.db.snapshot();
      try {
        return await work(inMemoryRepositories(this.db));
      } catch (error) {
        this.db.restore(snapshot);
        throw error;
      }
    });
    this.tail = result.catch(() => undefined);
    return result;
  }
}
