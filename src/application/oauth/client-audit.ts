import type { ServiceClient } from '@domain/client/service-client';
import type { AuditEntry } from '../ports/audit-log';
import { UNKNOWN_CLIENT } from '../shared/client-context';

/**
 * The audit entry of a client's registration or deletion. Only the CLI does either (CONTRACT §8): no request and
 * no acting user, so no actor, as for the CLI's `create-admin`; the subject is the client's id, and the reason
 * (for operators, never shown by the API) says `cli` and the client's name, which outlives the client in the
 * trail. Never the secret or its digest.
 */
export function clientAuditEntry(type: 'client.created' | 'client.deleted', client: ServiceClient, now: Date): AuditEntry {
  return { type, outcome: 'success', actorId: null, subjectId: client.id, reason: `cli name=${client.name}`, ...UNKNOWN_CLIENT, requestId: null, occurredAt: now };
}
