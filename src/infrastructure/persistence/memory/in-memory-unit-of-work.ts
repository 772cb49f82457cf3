import type { Guarded, Repositories, UnitOfWork } from '@application/ports/unit-of-work';
import type { User } from '@domain/user/user';
import { AfterCommitList, closeTransaction, openTransaction, type WakeTargets } from '../after-commit';
import { type RepositoryOptions, auditLogOf } from '../repository-options';
import { InMemoryAccountRequests } from './in-memory-account-requests';
import { InMemoryAuditLog } from './in-memory-audit-log';
import type { InMemoryDatabase } from './in-memory-database';
import { InMemoryEmailOutbox } from './in-memory-email-outbox';
import { InMemoryOneTimeTokenRepository } from './in-memory-one-time-token.repository';
import { InMemoryProcessedEvents } from './in-memory-processed-events';
import { InMemoryServiceClientRepository } from './in-memory-service-client.repository';
import { InMemorySessionRepository } from './in-memory-session.repository';
import { InMemoryUserRepository } from './in-memory-user.repository';

/** The repositories on the in-memory tables; a unit of work adds its transaction's after-commit list. */
export function inMemoryRepositories(db: InMemoryDatabase, options: RepositoryOptions): Omit<Repositories, 'afterCommit' | 'users'> & { users: InMemoryUserRepository } {
  return {
    users: new InMemoryUserRepository(db),
    sessions: new InMemorySessionRepository(db),
    oneTimeTokens: new InMemoryOneTimeTokenRepository(db),
    emails: new InMemoryEmailOutbox(db, options),
    audit: new InMemoryAuditLog(db),
    processedEvents: new InMemoryProcessedEvents(db),
    accountRequests: new InMemoryAccountRequests(db, options),
    clients: new InMemoryServiceClientRepository(db),
  };
}

/**
 * Serialisable transactions: one at a time (which is also the row lock), all-or-nothing by restoring a
 * snapshot of the tables when the work throws. The after-commit list runs once the next transaction may start
 * (a callback may run transactions of its own, as the account-request worker does) and before run() resolves.
 */
export class InMemoryUnitOfWork implements UnitOfWork {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: InMemoryDatabase,
    private readonly options: RepositoryOptions & { wake?: WakeTargets },
  ) {}

  run<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    return this.transaction((repos) => work(repos));
  }

  /** A transaction that writes only if `user`'s stored row is the one it was read from (adoptIfUnchanged). */
  runIfUnchanged<T>(user: User, work: (repos: Repositories) => Promise<T>): Promise<Guarded<T>> {
    return this.transaction(async (repos, users): Promise<Guarded<T>> => {
      if (!users.adoptIfUnchanged(user)) return { written: false };
      return { written: true, value: await work(repos) };
    });
  }

  /** As run(): one transaction at a time; add() refuses a taken email or username, and a throw restores the tables. */
  runInserts<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    return this.transaction((repos) => work(repos));
  }

  private transaction<T>(work: (repos: Repositories, users: InMemoryUserRepository) => Promise<T>): Promise<T> {
    const afterCommit = new AfterCommitList();
    const committed = this.tail.then(async () => {
      const snapshot = this.db.snapshot();
      openTransaction(this.db, afterCommit, this.options.wake ?? {});
      try {
        const repos = inMemoryRepositories(this.db, this.options);
        return await work({ ...repos, audit: auditLogOf(this.options, repos.audit, afterCommit.add), afterCommit: afterCommit.add }, repos.users);
      } catch (error) {
        this.db.restore(snapshot);
        throw error;
      } finally {
        closeTransaction(this.db);
      }
    });
    this.tail = committed.catch(() => undefined);
    return committed.then(async (value) => {
      await afterCommit.run();
      return value;
    });
  }
}
