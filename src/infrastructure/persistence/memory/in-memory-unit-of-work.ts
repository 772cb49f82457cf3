import type { Repositories, UnitOfWork } from '@application/ports/unit-of-work';
import { type RepositoryOptions, auditLogOf } from '../repository-options';
import { InMemoryAccountRequests } from './in-memory-account-requests';
import { InMemoryAuditLog } from './in-memory-audit-log';
import type { InMemoryDatabase } from './in-memory-database';
import { InMemoryEmailOutbox } from './in-memory-email-outbox';
import { InMemoryOneTimeTokenRepository } from './in-memory-one-time-token.repository';
import { InMemoryProcessedEvents } from './in-memory-processed-events';
import { InMemorySessionRepository } from './in-memory-session.repository';
import { InMemoryUserRepository } from './in-memory-user.repository';

export function inMemoryRepositories(db: InMemoryDatabase, options: RepositoryOptions): Repositories {
  return {
    users: new InMemoryUserRepository(db),
    sessions: new InMemorySessionRepository(db),
    oneTimeTokens: new InMemoryOneTimeTokenRepository(db),
    emails: new InMemoryEmailOutbox(db, options),
    audit: auditLogOf(options, new InMemoryAuditLog(db)),
    processedEvents: new InMemoryProcessedEvents(db),
    accountRequests: new InMemoryAccountRequests(db, options),
  };
}

/**
 * Serialisable transactions: one at a time (which is also the row lock), all-or-nothing by restoring a
 * snapshot of the tables when the work throws.
 */
export class InMemoryUnitOfWork implements UnitOfWork {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: InMemoryDatabase,
    private readonly options: RepositoryOptions & {
      /** After a transaction that queued email commits; awaited before the next transaction (tests deliver here). */
      afterEmailCommit?: () => Promise<void> | void;
      /**
       * After a transaction that recorded an account request commits; awaited before run() resolves but after
       * the next transaction may start, because the worker it wakes runs transactions of its own.
       */
      afterAccountRequestCommit?: () => Promise<void> | void;
    },
  ) {}

  run<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    let requested = false;
    const committed = this.tail.then(async () => {
      const snapshot = this.db.snapshot();
      let queued = false;
      let value: T;
      const onEmailQueued = () => (queued = true);
      const onAccountRequested = () => (requested = true);
      try {
        value = await work(inMemoryRepositories(this.db, { ...this.options, onEmailQueued, onAccountRequested }));
      } catch (error) {
        this.db.restore(snapshot);
        throw error;
      }
      if (queued) await this.options.afterEmailCommit?.();
      return value;
    });
    this.tail = committed.catch(() => undefined);
    return committed.then(async (value) => {
      if (requested) await this.options.afterAccountRequestCommit?.();
      return value;
    });
  }
}
