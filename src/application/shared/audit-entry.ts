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

/**
 * A request nobody has signed in for (a login attempt, its second step, a reset request): the account it names is the
 * subject, never the actor, since whoever sent it may be anyone (the port: "who acted, when known"). Until stop 63
 * these rows named the account as its own actor, and the admin audit view showed a guesser's failures as the
 * account's own acts (a review).
 */
export function unauthenticatedAuditEntry(type: AuditEventType, client: ClientContext, subjectId: string | null, now: Date, failure: string | null = null): AuditEntry {
  return { ...selfAuditEntry(type, client, subjectId, now, failure), actorId: null };
}

/**
 * The CLI acts with no request and no admin: no actor, the subject it acts on (an account, a client; none for a
 * signing key, whose kid is no user id), and a reason that says `cli` first (`cli`, `cli_...`, `cli name=...`).
 */
export function cliAuditEntry(type: AuditEventType, subjectId: string | null, now: Date, reason = 'cli'): AuditEntry {
  return { type, outcome: 'success', actorId: null, subjectId, reason, ip: null, userAgent: null, requestId: null, occurredAt: now };
}
