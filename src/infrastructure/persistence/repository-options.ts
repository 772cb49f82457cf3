import type { AuditLog } from '@application/ports/audit-log';
import type { Clock } from '@application/ports/clock';
import type { SecretBox } from '@application/ports/secret-box';

/** What the repositories need beyond a connection: the email outbox seals bodies and timestamps rows. */
export interface RepositoryOptions {
  secretBox: SecretBox;
  clock: Clock;
  /** Wraps each transaction's audit log (the metrics count what it records). */
  decorateAudit?: AuditDecorator;
}

/**
 * `afterCommit`: where the decorator defers its work to, once the unit of work has an after-commit list to
 * offer (Repositories.afterCommit); without one, the decorator acts at once.
 */
export type AuditDecorator = (audit: AuditLog, afterCommit?: (fn: () => void) => void) => AuditLog;

/** The audit log the repositories hand out: `log`, decorated when the options ask for it. */
export function auditLogOf(options: RepositoryOptions, log: AuditLog, afterCommit?: (fn: () => void) => void): AuditLog {
  return options.decorateAudit?.(log, afterCommit) ?? log;
}
