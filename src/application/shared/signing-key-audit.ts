import type { AuditEntry } from '../ports/audit-log';
import { cliAuditEntry } from './audit-entry';

/** What a rotation wrote: the key it promoted (none when there was no next key), the keys it retired, the new next key. */
export interface KeyRotation {
  promoted: string | null;
  retired: readonly string[];
  next: string;
}

/**
 * The audit entry of a rotation (`rotate-keys`): no actor (the CLI acts, as for the client commands) and no subject
 * (a kid is no user id); the reason, for operators and never shown by the API, says `cli`, `forced` when the
 * publication window was not waited for (`--force`), then the kids: `promoted=`, `retired=` (comma-separated, `-` for
 * none) and `next=`. Kids are public (the JWKS lists them); nothing of a key's material.
 */
export function keyRotationAuditEntry(rotation: KeyRotation, forced: boolean, now: Date): AuditEntry {
  const retired = rotation.retired.length > 0 ? rotation.retired.join(',') : '-';
  const reason = `cli ${forced ? 'forced ' : ''}promoted=${rotation.promoted ?? '-'} retired=${retired} next=${rotation.next}`;
  return cliAuditEntry('signing_key.rotated', null, now, reason);
}

/** The audit entry of a retired key's withdrawal (`withdraw-key`): as a rotation's, the reason `cli kid=<kid>`. */
export function keyWithdrawalAuditEntry(kid: string, now: Date): AuditEntry {
  return cliAuditEntry('signing_key.withdrawn', null, now, `cli kid=${kid}`);
}
