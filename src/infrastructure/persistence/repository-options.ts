import type { AuditLog } from '@application/ports/audit-log';
import type { Clock } from '@application/ports/clock';
import type { SecretBox } from '@application/ports/secret-box';

/** What the repositories need beyond a connection: the email outbox seals bodies and timestamps rows. */
export interface RepositoryOptions {
  secretBox: SecretBox;
  clock: Clock;
  /** Told when an email is queued; the unit of work wakes the sender once the transaction has committed. */
  onEmailQueued?: () => void;
  /** Told when an account request is recorded; the unit of work wakes the worker once the transaction has committed. */
  onAccountRequested?: () => void;
  /** Wraps each transaction's audit log (the metrics count what it records). */
  decorateAudit?: (audit: AuditLog) => AuditLog;
}

/** The audit log the repositories hand out: `log`, decorated when the options ask for it. */
export function auditLogOf(options: RepositoryOptions, log: AuditLog): AuditLog {
  return options.decorateAudit?.(log) ?? log;
}
