import type { AuditEntry, AuditLog } from '@application/ports/audit-log';
import type { LoginResult, SecurityMetrics } from '@application/ports/security-metrics';

/**
 * Schedules a count. Today it runs at once, when the entry is written inside the transaction; with the unit
 * of work's after-commit list it becomes `(count) => repos.afterCommit(count)` and a rolled-back entry is
 * never counted. Every counted entry is the last write of its transaction, so only a failed COMMIT over-counts.
 */
export type CountScheduler = (count: () => void) => void;

const AT_ONCE: CountScheduler = (count) => count();

/**
 * The audit trail is where every login outcome, lockout and refresh-token reuse is already decided and recorded
 * (one call each, with its reason): counting the entries keeps the use cases free of metrics code and cannot
 * drift from what the audit says happened.
 */
export class CountingAuditLog implements AuditLog {
  constructor(
    private readonly inner: AuditLog,
    private readonly metrics: SecurityMetrics,
    private readonly schedule: CountScheduler = AT_ONCE,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    await this.inner.record(entry);
    const count = countOf(entry, this.metrics);
    if (count) this.schedule(count);
  }
}

function countOf(entry: AuditEntry, metrics: SecurityMetrics): (() => void) | null {
  switch (entry.type) {
    case 'login.succeeded':
      return () => metrics.login('success');
    case 'login.failed':
      return () => metrics.login(loginFailureResult(entry.reason));
    case 'account.locked':
      return () => metrics.lockout();
    case 'refresh_token.reuse_detected':
      return () => metrics.refreshTokenReuse();
    default:
      return null;
  }
}

/** The reasons LoginWithPassword records, folded into what the caller was told. */
export function loginFailureResult(reason: string | null): LoginResult {
  switch (reason) {
    case 'unknown_account':
    case 'wrong_password':
    case 'credentials_changed':
    case 'refused':
    case 'wrong_mfa_code':
    case 'mfa_code_replayed':
    case 'invalid_mfa_token':
      return 'invalid_credentials';
    case 'locked':
    case 'mfa_locked':
      return 'locked';
    case 'email_not_verified':
      return 'email_not_verified';
    case 'account_disabled':
      return 'account_disabled';
    case 'attempts_in_flight':
    case 'mfa_rate_limited':
      return 'rate_limited';
    default:
      return 'other';
  }
}
