import type { ServiceClient } from '@domain/client/service-client';
import type { AuditEntry } from '../ports/audit-log';
import { cliAuditEntry } from '../shared/audit-entry';

/**
 * The audit entry of a client's registration, deletion or new secret. Only the CLI does any of them (CONTRACT §8):
 * no request and no acting user, so no actor, as for the CLI's `create-admin`; the subject is the client's id, and
 * the reason (for operators, never shown by the API) says `cli`, then `tokens_revoked` for a rotation that cut off
 * the earlier tokens, then the client's name, last because it may hold spaces; the name outlives the client in the
 * trail. Never the secret or its digest.
 */
export function clientAuditEntry(
  type: 'client.created' | 'client.deleted' | 'client.secret_rotated',
  client: ServiceClient,
  now: Date,
  options: { tokensRevoked?: boolean } = {},
): AuditEntry {
  const reason = `cli ${options.tokensRevoked ? 'tokens_revoked ' : ''}name=${client.name}`;
  return cliAuditEntry(type, client.id, now, reason);
}
