import type { AuditLog } from '@application/ports/audit-log';
import type { SigningKeyRepository } from '@application/ports/signing-keys';
import type { Guarded, Repositories, UnitOfWork } from '@application/ports/unit-of-work';
import type { User } from '@domain/user/user';
import type { DataSource, EntityManager } from 'typeorm';
import { AfterCommitList, closeTransaction, openTransaction, type WakeTargets } from '../after-commit';
import { type RepositoryOptions, auditLogOf } from '../repository-options';
import { TypeOrmAccountRequests } from './typeorm-account-requests';
import { TypeOrmAuditLog } from './typeorm-audit-log';
import { TypeOrmEmailOutbox } from './typeorm-email-outbox';
import { TypeOrmOneTimeTokenRepository } from './typeorm-one-time-token.repository';
import { TypeOrmProcessedEvents } from './typeorm-processed-events';
import { TypeOrmServiceClientRepository } from './typeorm-service-client.repository';
import { TypeOrmSessionRepository } from './typeorm-session.repository';
import { TypeOrmSigningKeyRepository } from './typeorm-signing-key.repository';
import { TypeOrmUserRepository } from './typeorm-user.repository';
import { closeGuard, openGuard, openInsertGuard, writeGuarded } from './guarded-write';
import { flushAppends, holdAppends, releaseAppends } from './transaction-appends';

/** The repositories on one EntityManager; a unit of work adds its transaction's after-commit list. */
export type TypeOrmRepositories = Omit<Repositories, 'afterCommit'> & {
  signingKeys: SigningKeyRepository;
};

/**
 * Every repository bound to one EntityManager: a transaction's (what the unit of work hands out) or
 * `dataSource.manager` for single statements outside one (whose writes wake no worker: polling finds them). Never mix the two inside a transaction: with one
 * pooled connection (embedded PGlite) the global manager would wait for the connection the transaction holds.
 */
export function typeOrmRepositories(manager: EntityManager, options: RepositoryOptions): TypeOrmRepositories {
  return {
    users: new TypeOrmUserRepository(manager),
    sessions: new TypeOrmSessionRepository(manager),
    oneTimeTokens: new TypeOrmOneTimeTokenRepository(manager),
    emails: new TypeOrmEmailOutbox(manager, options),
    signingKeys: new TypeOrmSigningKeyRepository(manager),
    audit: new TypeOrmAuditLog(manager),
    processedEvents: new TypeOrmProcessedEvents(manager),
    accountRequests: new TypeOrmAccountRequests(manager, options),
    clients: new TypeOrmServiceClientRepository(manager),
  };
}

/**
 * One database transaction (READ COMMITTED) per run(); a thrown error rolls back writes and outbox rows alike.
 * Outbox events and audit entries are held until the work is done and written in one statement before the
 * COMMIT (transaction-appends.ts).
 * After the COMMIT the transaction's after-commit list runs (see Repositories.afterCommit); the writers put the
 * wake-ups of `wake` on it.
 */
export class TypeOrmUnitOfWork implements UnitOfWork {
  constructor(
    private readonly dataSource: DataSource,
    private readonly options: RepositoryOptions & { wake?: WakeTargets },
  ) {}

  async run<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    return this.transaction((repos) => work(repos));
  }

  /**
   * SigningKeyTransaction (ports/signing-keys.ts): a run() on the signing keys and the audit log, the table locked
   * first in SHARE ROW EXCLUSIVE mode, which one such transaction holds at a time and plain reads never wait for.
   */
  runOnSigningKeys<T>(work: (keys: SigningKeyRepository, audit: AuditLog) => Promise<T>): Promise<T> {
    return this.transaction(async (repos, manager) => {
      await manager.query('LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE');
      return work(repos.signingKeys, repos.audit);
    });
  }

  private async transaction<T>(work: (repos: TypeOrmRepositories & Pick<Repositories, 'afterCommit'>, manager: EntityManager) => Promise<T>): Promise<T> {
    const afterCommit = new AfterCommitList();
    const result = await this.dataSource.transaction(async (manager) => {
      openTransaction(manager, afterCommit, this.options.wake ?? {});
      holdAppends(manager);
      try {
        const repos = typeOrmRepositories(manager, this.options);
        const done = await work({ ...repos, audit: auditLogOf(this.options, repos.audit, afterCommit.add), afterCommit: afterCommit.add }, manager);
        await flushAppends(manager);
        return done;
      } finally {
        releaseAppends(manager);
        closeTransaction(manager);
      }
    });
    await afterCommit.run();
    return result;
  }

  /** One statement, no transaction: guarded-write.ts. A user read without its version: nothing (the locked path). */
  async runIfUnchanged<T>(user: User, work: (repos: Repositories) => Promise<T>): Promise<Guarded<T>> {
    const manager = openGuard(this.dataSource, user);
    return manager === null ? { written: false } : this.held(manager, work);
  }

  /** One statement of INSERTs, no transaction: guarded-write.ts. An email or a username taken: the domain's error. */
  async runInserts<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    const outcome = await this.held(openInsertGuard(this.dataSource), work);
    if (!outcome.written) throw new Error('runInserts: an insert-only write has no version to lose');
    return outcome.value;
  }

  private async held<T>(manager: EntityManager, work: (repos: Repositories) => Promise<T>): Promise<Guarded<T>> {
    const afterCommit = new AfterCommitList();
    openTransaction(manager, afterCommit, this.options.wake ?? {});
    let outcome: Guarded<T>;
    try {
      const repos = typeOrmRepositories(manager, this.options);
      const value = await work({ ...repos, audit: auditLogOf(this.options, repos.audit, afterCommit.add), afterCommit: afterCommit.add });
      outcome = (await writeGuarded(manager)) ? { written: true, value } : { written: false };
    } finally {
      closeGuard(manager);
      closeTransaction(manager);
    }
    if (outcome.written) await afterCommit.run();
    return outcome;
  }
}
