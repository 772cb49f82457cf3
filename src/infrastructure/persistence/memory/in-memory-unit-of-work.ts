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

  /**
   * A transaction that writes only if `user`'s stored row is the one it was read from (adoptIfUnchanged). Its work
   * may do what the SQL adapter's one statement can (guarded-write.ts): save `user`'s own columns, add sessions,
   * record audit entries; anything else throws here as there (until stop 65 only SQL refused, so a work that read or
   * queued an email passed the unit tests and failed every login in production: a review of adapter parity).
   */
  runIfUnchanged<T>(user: User, work: (repos: Repositories) => Promise<T>): Promise<Guarded<T>> {
    return this.transaction(async (repos, users): Promise<Guarded<T>> => {
      if (!users.adoptIfUnchanged(user)) return { written: false };
      return { written: true, value: await work(guardedRepositories(repos, { saves: user })) };
    });
  }

  /**
   * As run(): one transaction at a time; add() refuses a taken email or username, and a throw restores the tables.
   * Its work is held to what SQL's insert-only statement can do: add one user, sessions and audit entries.
   */
  runInserts<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    return this.transaction((repos) => work(guardedRepositories(repos, { saves: null })));
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

/** What a guarded work may call, per repository: the writes SQL's one statement holds (guarded-write.ts). */
const GUARDED_CALLS: { readonly [K in Exclude<keyof Repositories, 'afterCommit'>]: readonly string[] } = {
  users: ['save', 'add'],
  sessions: ['add'],
  audit: ['record'],
  oneTimeTokens: [],
  emails: [],
  clients: [],
  accountRequests: [],
  processedEvents: [],
};

/**
 * The repositories a guarded work gets: other calls throw, as the SQL adapter's guarded EntityManager refuses any
 * statement of its own. `saves`: the user runIfUnchanged guards (its save only, no add), or null for runInserts
 * (one add, no save).
 */
function guardedRepositories(repos: Repositories, mode: { saves: User | null }): Repositories {
  let added = false;
  const guard = <R extends object>(name: keyof typeof GUARDED_CALLS, repo: R): R =>
    new Proxy(repo, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof property === 'symbol' || typeof value !== 'function') return value;
        if (!GUARDED_CALLS[name].includes(property)) throw new Error(`${name}: a guarded write sends one statement at its end: its work may not call ${property}`);
        if (name !== 'users') return value.bind(target);
        return (user: User) => {
          if (property === 'save' && mode.saves === null) throw new Error('users: an insert-only write (runInserts) saves nothing');
          if (property === 'save' && user !== mode.saves) throw new Error('users: a guarded write saves only the user it is guarded by');
          if (property === 'add' && mode.saves !== null) throw new Error('users: a write guarded by a user adds no user');
          if (property === 'add' && added) throw new Error('users: an insert-only write adds one user');
          added ||= property === 'add';
          return (value as (user: User) => Promise<void>).call(target, user);
        };
      },
    });
  return {
    ...repos,
    users: guard('users', repos.users),
    sessions: guard('sessions', repos.sessions),
    audit: guard('audit', repos.audit),
    oneTimeTokens: guard('oneTimeTokens', repos.oneTimeTokens),
    emails: guard('emails', repos.emails),
    clients: guard('clients', repos.clients),
    accountRequests: guard('accountRequests', repos.accountRequests),
    processedEvents: guard('processedEvents', repos.processedEvents),
  };
}
