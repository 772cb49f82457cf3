import type { WakeTargets } from '@infrastructure/persistence/after-commit';
/**
 * The persistence adapters the repository contract suites run against alike: in memory, PGlite (embedded, one
 * connection) and the real PostgreSQL server (a pool; selected at collection time, always under CI=true).
 * Each `start()` gives a fresh, migrated, empty store; the suites talk to it through the ports and read rows back
 * through the adapter-neutral views below.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import type { AuditEntry, AuditEventType } from '@application/ports/audit-log';
import type { AuditTrail } from '@application/ports/audit-trail';
import type { UserDirectory } from '@application/ports/user-directory';
import { InMemoryAuditTrail } from '@infrastructure/persistence/memory/in-memory-audit-trail';
import { InMemoryUserDirectory } from '@infrastructure/persistence/memory/in-memory-user-directory';
import { TypeOrmAuditTrail } from '@infrastructure/persistence/typeorm/typeorm-audit-trail';
import { TypeOrmUserDirectory } from '@infrastructure/persistence/typeorm/typeorm-user-directory';
import type { IntegrationEvent } from '@application/ports/event-publisher';
import type { SigningKeyRepository, SigningKeyTransaction } from '@application/ports/signing-keys';
import type { Repositories, UnitOfWork } from '@application/ports/unit-of-work';
import type { EmailQueue, QueuedEmailRow } from '@infrastructure/email/email-queue';
import type { AccountRequestQueue, AccountRequestRow } from '@infrastructure/jobs/account-request-queue';
import type { OutboxStore } from '@infrastructure/messaging/outbox-store';
import { startEmbeddedPostgres } from '@infrastructure/persistence/embedded/embedded-postgres';
import { InMemoryAccountRequestQueue } from '@infrastructure/persistence/memory/in-memory-account-requests';
import { InMemoryDatabase } from '@infrastructure/persistence/memory/in-memory-database';
import { InMemoryEmailQueue } from '@infrastructure/persistence/memory/in-memory-email-outbox';
import { InMemoryOutboxStore } from '@infrastructure/persistence/memory/in-memory-outbox-store';
import { InMemorySigningKeyRepository } from '@infrastructure/persistence/memory/in-memory-signing-key.repository';
import { InMemoryServiceClientRepository } from '@infrastructure/persistence/memory/in-memory-service-client.repository';
import type { ServiceClientRepository } from '@domain/client/service-client.repository';
import { InMemoryUnitOfWork, inMemoryRepositories } from '@infrastructure/persistence/memory/in-memory-unit-of-work';
import type { RepositoryOptions } from '@infrastructure/persistence/repository-options';
import { createDataSource, runMigrations } from '@infrastructure/persistence/typeorm/data-source';
import { purgeExpiredRows, type PurgeCounts, type PurgeOptions } from '@infrastructure/persistence/typeorm/purge-expired';
import { TypeOrmAccountRequestQueue } from '@infrastructure/persistence/typeorm/typeorm-account-requests';
import { TypeOrmEmailQueue } from '@infrastructure/persistence/typeorm/typeorm-email-outbox';
import { TypeOrmOutboxStore } from '@infrastructure/persistence/typeorm/typeorm-outbox-store';
import { TypeOrmUnitOfWork, typeOrmRepositories } from '@infrastructure/persistence/typeorm/typeorm-unit-of-work';
import { AesGcmSecretBox } from '@infrastructure/security/crypto/aes-gcm-secret-box';
import { SystemClock } from '@infrastructure/time/system-clock';
import { seedMigratedPgdata } from './pgdata-template';
import { createScratchSchema, REAL_POSTGRES_SELECTED } from './servers';

/** What the repositories and the units of work need in tests: a fresh key, the real clock (unless overridden). */
export function testRepositoryOptions(overrides: Partial<RepositoryOptions> = {}): RepositoryOptions {
  return { secretBox: new AesGcmSecretBox(randomBytes(32)), clock: new SystemClock(), ...overrides };
}

export interface StoreOptions extends Partial<RepositoryOptions> {
  /** What the unit of work wakes after a commit (email sender, account-request worker, relay). */
  wake?: WakeTargets;
}

/** An outbox row as every adapter can show it. */
export interface OutboxView {
  id: string;
  type: string;
  subject: string;
  payload: IntegrationEvent;
  createdAt: Date;
  publishedAt: Date | null;
  attempts: number;
  lastError: string | null;
}

export interface Store {
  uow: UnitOfWork;
  /** The repositories outside any unit of work: each call is its own statement (auto-commit). */
  repos: Omit<Repositories, 'afterCommit'>;
  signingKeys: SigningKeyRepository;
  /** Rotations' and withdrawals' transactions on `signingKeys`, audited through `uow`'s audit log. */
  signingKeyTransaction: SigningKeyTransaction;
  /** Service clients (issue 11): single-statement changes, outside units of work. */
  clients: ServiceClientRepository;
  emailQueue: EmailQueue;
  accountRequestQueue: AccountRequestQueue;
  outboxStore: OutboxStore;
  /** Outbox rows, oldest first, then as recorded (created_at, seq). */
  outbox(): Promise<OutboxView[]>;
  emails(): Promise<QueuedEmailRow[]>;
  /** Account requests in the order they were recorded. */
  accountRequests(): Promise<AccountRequestRow[]>;
  /** Audit entries, oldest first. */
  auditEntries(): Promise<AuditEntry[]>;
  /** Admin read models (issue 12), outside any unit of work. */
  userDirectory: UserDirectory;
  auditTrail: AuditTrail;
  /** The SQL adapters' purge job (the in-memory tables live as long as the process). */
  purge?: (now: Date, options?: PurgeOptions) => Promise<PurgeCounts>;
  /** The SQL adapters' data source, for the few checks about the SQL schema itself. */
  dataSource?: DataSource;
  stop(): Promise<void>;
}

export interface PersistenceAdapter {
  name: string;
  kind: 'memory' | 'sql';
  /** Whether transactions run side by side (a real server's pool) rather than one at a time, so races can be staged. */
  parallel: boolean;
  start(options?: StoreOptions): Promise<Store>;
}

const memory: PersistenceAdapter = {
  name: 'in memory',
  kind: 'memory',
  parallel: false,
  async start(options = {}) {
    const db = new InMemoryDatabase();
    const repositoryOptions = testRepositoryOptions(options);
    const outboxStore = new InMemoryOutboxStore(db);
    const uow = new InMemoryUnitOfWork(db, { ...options, ...repositoryOptions });
    const signingKeys = new InMemorySigningKeyRepository();
    return {
      uow,
      repos: inMemoryRepositories(db, repositoryOptions),
      signingKeys,
      signingKeyTransaction: signingKeys.transaction(uow),
      clients: new InMemoryServiceClientRepository(db),
      userDirectory: new InMemoryUserDirectory(db),
      auditTrail: new InMemoryAuditTrail(db),
      emailQueue: new InMemoryEmailQueue(db),
      accountRequestQueue: new InMemoryAccountRequestQueue(db),
      outboxStore,
      async outbox() {
        return [...db.tables.outbox]
          .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()) // stable: then as recorded (the SQL seq)
          .map((row) => ({
            id: row.event.id,
            type: row.event.type,
            subject: row.event.subject,
            payload: structuredClone(row.event),
            createdAt: row.createdAt,
            publishedAt: row.publishedAt,
            attempts: outboxStore.attempts.get(row.event.id)?.count ?? 0,
            lastError: outboxStore.attempts.get(row.event.id)?.lastError ?? null,
          }));
      },
      emails: async () => structuredClone([...db.tables.emails.values()]),
      accountRequests: async () => structuredClone([...db.tables.accountRequests.values()]),
      // Without the id the table adds (the SQL view leaves it out too).
      auditEntries: async () => structuredClone(db.tables.auditEvents).map(({ id: _id, ...entry }) => entry).sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime()),
      stop: async () => undefined,
    };
  },
};

/** The SQL store over a migrated data source; `close` releases whatever holds the database. */
function sqlStore(dataSource: DataSource, options: StoreOptions, close: () => Promise<void>): Store {
  const repositoryOptions = testRepositoryOptions(options);
  const repos = typeOrmRepositories(dataSource.manager, repositoryOptions);
  const uow = new TypeOrmUnitOfWork(dataSource, { ...options, ...repositoryOptions });
  return {
    uow,
    repos,
    signingKeys: repos.signingKeys,
    signingKeyTransaction: (work) => uow.runOnSigningKeys(work),
    clients: repos.clients,
    userDirectory: new TypeOrmUserDirectory(dataSource.manager),
    auditTrail: new TypeOrmAuditTrail(dataSource.manager),
    emailQueue: new TypeOrmEmailQueue(dataSource),
    accountRequestQueue: new TypeOrmAccountRequestQueue(dataSource),
    outboxStore: new TypeOrmOutboxStore(dataSource),
    outbox: () =>
      dataSource.query(
        `SELECT id, type, subject, payload, created_at AS "createdAt", published_at AS "publishedAt", attempts, last_error AS "lastError"
           FROM outbox_events ORDER BY created_at, seq`,
      ),
    emails: () =>
      dataSource.query(
        `SELECT id, recipient, subject, sealed_text AS "sealedText", sealed_html AS "sealedHtml", created_at AS "createdAt", attempts, message_failures AS "messageFailures",
                next_attempt_at AS "nextAttemptAt", locked_until AS "lockedUntil", claim_id AS "claimId", sent_at AS "sentAt",
                failed_at AS "failedAt", last_error AS "lastError"
           FROM email_outbox ORDER BY created_at`,
      ),
    accountRequests: () =>
      dataSource.query(
        `SELECT id, kind, username, sealed_payload AS "sealedPayload", created_at AS "createdAt", attempts, next_attempt_at AS "nextAttemptAt",
                locked_until AS "lockedUntil", claim_id AS "claimId", processed_at AS "processedAt", last_error AS "lastError"
           FROM account_requests ORDER BY created_at`,
      ),
    auditEntries: async () => {
      const rows: (Omit<AuditEntry, 'type' | 'outcome'> & { type: string; outcome: string })[] = await dataSource.query(
        `SELECT type, outcome, actor_id AS "actorId", subject_id AS "subjectId", reason, ip, user_agent AS "userAgent",
                request_id AS "requestId", occurred_at AS "occurredAt"
           FROM audit_events ORDER BY occurred_at`,
      );
      return rows.map((row) => ({ ...row, type: row.type as AuditEventType, outcome: row.outcome as AuditEntry['outcome'] }));
    },
    purge: (now, options) => purgeExpiredRows(dataSource, now, 7, options),
    dataSource,
    stop: close,
  };
}

/** Embedded: PGlite in a fresh temporary directory, served over a local socket, one pooled connection. */
const pglite: PersistenceAdapter = {
  name: 'PGlite',
  kind: 'sql',
  parallel: false,
  async start(options = {}) {
    const dir = await mkdtemp(join(tmpdir(), 'auth-pglite-'));
    await seedMigratedPgdata(dir); // a migrated copy: runMigrations below finds nothing to do
    const embedded = await startEmbeddedPostgres(dir);
    // As the service opens it (config/database.ts): no named prepared statements on the embedded PGlite.
    const dataSource = createDataSource({ url: embedded.url, poolSize: 1, preparedStatements: false });
    const stop = async (): Promise<void> => {
      if (dataSource.isInitialized) await dataSource.destroy();
      await embedded.stop();
      await rm(dir, { recursive: true, force: true });
    };
    try {
      await dataSource.initialize();
      await runMigrations(dataSource);
    } catch (error) {
      await stop();
      throw error;
    }
    return sqlStore(dataSource, options, stop);
  },
};

/** Real server: a throw-away schema per suite (parallel workers and repeated runs never collide). */
const realPostgres: PersistenceAdapter = {
  name: 'PostgreSQL server',
  kind: 'sql',
  parallel: true,
  async start(options = {}) {
    const schema = await createScratchSchema('it');
    const dataSource = await schema.open(10);
    return sqlStore(dataSource, options, () => schema.drop());
  },
};

/** Every adapter a contract suite runs on: in memory and PGlite always, the real server when selected. */
export const ADAPTERS: PersistenceAdapter[] = REAL_POSTGRES_SELECTED ? [memory, pglite, realPostgres] : [memory, pglite];

/** The SQL adapters only, for the checks about the SQL schema and the purge job. */
export const SQL_ADAPTERS: PersistenceAdapter[] = ADAPTERS.filter((adapter) => adapter.kind === 'sql');

/** A migrated SQL database and how to release it (for suites about the SQL adapters themselves). */
export interface TestDatabase {
  dataSource: DataSource;
  stop(): Promise<void>;
}

/** The SQL adapters as bare databases: `poolSize` > 1 where transactions run side by side. */
export const backends: { name: string; poolSize: number; start(): Promise<TestDatabase> }[] = SQL_ADAPTERS.map((adapter) => ({
  name: adapter.name,
  poolSize: adapter.parallel ? 10 : 1,
  async start() {
    const store = await adapter.start();
    if (!store.dataSource) throw new Error(`${adapter.name} has no data source`);
    return { dataSource: store.dataSource, stop: () => store.stop() };
  },
}));
