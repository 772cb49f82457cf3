import type { AuditEntry, AuditEventType } from '../ports/audit-log';
import type { ClientContext } from './client-context';

/** An audit entry about a user acting on their own account (actor and subject are the same user). */
export function selfAuditEntry(
  type: AuditEventType,
  client: ClientContext,
  userId: string | null,
  now: Date,
  failure: string | null = null,
): AuditEntry {
  return {
    type,
    outcome: failure === null ? 'success' : 'failure',
    actorId: userId,
    subjectId: userId,
    reason: failure,
    ip: client.ip,
    userAgent: client.userAgent,
    requestId: client.requestId ?? null,
    occurredAt: now,
  };
}
