import type { SessionRepository } from '@domain/session/session.repository';
import type { OneTimeTokenRepository } from '@domain/token/one-time-token.repository';
import type { UserRepository } from '@domain/user/user.repository';
import type { AccountRequests } from './account-requests';
import type { AuditLog } from './audit-log';
import type { EmailOutbox } from './email-outbox';
import type { ProcessedEvents } from './processed-events';

/** Repositories bound to one transaction. */
export interface Repositories {
  users: UserRepository;
  sessions: SessionRepository;
  oneTimeTokens: OneTimeTokenRepository;
  /** Emails queued in the same transaction as the change that causes them; a background sender delivers them. */
  emails: EmailOutbox;
  /** The audit trail, written in the same transaction as the change it records. */
  audit: AuditLog;
  /** Requests about an address (register, reset, resend) that a background worker processes after commit. */
  accountRequests: AccountRequests;
  /** Event ids each subscriber has processed (de-duplication), written with the subscriber's own changes. */
  processedEvents: ProcessedEvents;
}

/**
 * Runs `work` in one database transaction: every write it makes through `repos`, and the events the saved
 * aggregates recorded (outbox), commit together or not at all. A thrown error rolls everything back.
 */
export interface UnitOfWork {
  run<T>(work: (repos: Repositories) => Promise<T>): Promise<T>;
}
