import type { ServiceClientRepository } from '@domain/client/service-client.repository';
import type { SessionRepository } from '@domain/session/session.repository';
import type { OneTimeTokenRepository } from '@domain/token/one-time-token.repository';
import type { User } from '@domain/user/user';
import type { UserRepository } from '@domain/user/user.repository';
import type { AccountRequests } from './account-requests';
import type { AuditLog } from './audit-log';
import type { EmailOutbox } from './email-outbox';
import type { ProcessedEvents } from './processed-events';

/** Work to do once a transaction has committed. */
export type AfterCommit = () => Promise<void> | void;

/** Repositories bound to one transaction, and the transaction's after-commit list. */
export interface Repositories {
  users: UserRepository;
  sessions: SessionRepository;
  oneTimeTokens: OneTimeTokenRepository;
  /** Emails queued in the same transaction as the change that causes them; a background sender delivers them. */
  emails: EmailOutbox;
  /** The audit trail, written in the same transaction as the change it records. */
  audit: AuditLog;
  /** Service clients: created and deleted here, so that their audit entry commits with the change. */
  clients: ServiceClientRepository;
  /** Requests about an address (register, reset, resend) that a background worker processes after commit. */
  accountRequests: AccountRequests;
  /** Event ids each subscriber has processed (de-duplication), written with the subscriber's own changes. */
  processedEvents: ProcessedEvents;
  /**
   * Runs `fn` once this transaction has committed; never after a rollback. The list runs in registration order
   * (a function registered twice runs once), each callback awaited, before run() resolves. Every callback runs
   * even when an earlier one threw; run() then rejects with the first error, although the work did commit. So
   * a callback that must not fail the request (waking a background worker) does not throw, and one that must
   * (a revocation that could not reach the cache) throws a DomainError.
   */
  afterCommit(fn: AfterCommit): void;
}

/**
 * Runs `work` in one database transaction: every write it makes through `repos`, and the events the saved
 * aggregates recorded (outbox), commit together or not at all. A thrown error rolls everything back. Once
 * committed, the callbacks registered with `repos.afterCommit` run (waking the relay, the email sender and the
 * account-request worker; the session cache); run() resolves after them.
 */
export interface UnitOfWork {
  run<T>(work: (repos: Repositories) => Promise<T>): Promise<T>;
  /**
   * The optimistic form of run(), for a hot write that must not be lost to a change it did not see: `work` runs
   * with repositories whose writes are held, and they are then written together, atomically, only if `user` (as
   * read by a plain find of the user repository, outside any unit of work) is still the version read: nothing
   * of its row or its credentials committed since. Otherwise nothing is written and `{ written: false }` tells the
   * caller to take the locked path (run() with findByIdForUpdate). The work may save `user` (its own fields, not
   * a credential), add new sessions and record audit entries and events; nothing else, and it must not read
   * through `repos`. Its after-commit list runs once written, before this resolves. A user the repository did not
   * read that way has no version to check: `{ written: false }`. A work that writes nothing has nothing to guard:
   * `{ written: true }`, unchecked.
   */
  runIfUnchanged<T>(user: User, work: (repos: Repositories) => Promise<T>): Promise<Guarded<T>>;
  /**
   * The insert-only form of run(), for a hot write that only creates: `work` may add new users (with their
   * credentials) and sessions, and record audit entries and events; nothing else, and it must not read through
   * `repos`. Its rows are held and written together, atomically. An email or a username already taken rejects
   * as users.add() would (EMAIL_ALREADY_REGISTERED, USERNAME_TAKEN), with nothing written; so does any other
   * failure. Its after-commit list runs once written, before this resolves.
   */
  runInserts<T>(work: (repos: Repositories) => Promise<T>): Promise<T>;
}

/** What runIfUnchanged did: wrote the work's changes (with its result), or nothing. */
export type Guarded<T> = { written: true; value: T } | { written: false };
