import type { SigningKeyRepository } from '@application/ports/signing-keys';
import type { Repositories, UnitOfWork } from '@application/ports/unit-of-work';
import type { DataSource, EntityManager } from 'typeorm';
import { type RepositoryOptions, auditLogOf } from '../repository-options';
import { TypeOrmAccountRequests } from './typeorm-account-requests';
import { TypeOrmAuditLog } from './typeorm-audit-log';
import { TypeOrmEmailOutbox } from './typeorm-email-outbox';
import { TypeOrmOneTimeTokenRepository } from './typeorm-one-time-token.repository';
import { TypeOrmProcessedEvents } from './typeorm-processed-events';
import { TypeOrmSessionRepository } from './typeorm-session.repository';
import { TypeOrmSigningKeyRepository } from './typeorm-signing-key.repository';
import { TypeOrmUserRepository } from './typeorm-user.repository';

export interface TypeOrmRepositories extends Repositories {
  signingKeys: SigningKeyRepository;
}

/**
 * Every repository bound to one EntityManager: a transaction's (what the unit of work hands out) or
 * `dataSource.manager` for single statements outside one. Never mix the two inside a transaction: with one
 * pooled connection (embedded PGlite) the global manager would wait for the connection the transaction holds.
 */
export function typeOrmRepositories(manager: EntityManager, options: RepositoryOptions): TypeOrmRepositories {
  return {
    users: new TypeOrmUserRepository(manager),
    sessions: new TypeOrmSessionRepository(manager),
    oneTimeTokens: new TypeOrmOneTimeTokenRepository(manager),
    emails: new TypeOrmEmailOutbox(manager, options),
    signingKeys: new TypeOrmSigningKeyRepository(manager),
    audit: auditLogOf(options, new TypeOrmAuditLog(manager)),
    processedEvents: new TypeOrmProcessedEvents(manager),
    accountRequests: new TypeOrmAccountRequests(manager, options),
  };
}

/** One database transaction (READ COMMITTED) per run(); a thrown error rolls back writes and outbox rows alike. */
export class TypeOrmUnitOfWork implements UnitOfWork {
  constructor(
    private readonly dataSource: DataSource,
    private readonly options: RepositoryOptions & {
      /** After a transaction that queued email commits: wakes the sender (not awaited by run). */
      afterEmailCommit?: () => void;
      /** After a transaction that recorded an account request commits: wakes the worker (not awaited by run). */
      afterAccountRequestCommit?: () => void;
    },
  ) {}

  async run<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    let queued = false;
    let requested = false;
    const onEmailQueued = () => (queued = true);
    const onAccountRequested = () => (requested = true);
    const result = await this.dataSource.transaction((manager) =>
      work(typeOrmRepositories(manager, { ...this.options, onEmailQueued, onAccountRequested })),
    );
    if (queued) this.options.afterEmailCommit?.();
    if (requested) this.options.afterAccountRequestCommit?.();
    return result;
  }
}
