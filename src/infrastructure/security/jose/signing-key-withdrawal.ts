import type { SigningKeyRecord } from '@application/ports/signing-keys';

/**
 * What withdrawing a kid comes to (`withdraw-key`, SigningKeyManager.withdraw): `withdrawn` when it was a retired key
 * and is deleted now; `active` and `next` are refused, nothing written; `unknown` when no stored key has that kid.
 */
export type Withdrawal = 'withdrawn' | 'active' | 'next' | 'unknown';

/**
 * Only a retired key may leave before its window ends. The active key signs every token being issued: deleted, every
 * instance would sign with a key no verifier holds (rotate-keys --force retires it first). A next key is about to
 * sign: deleted, the next rotation would promote a key published moments before (rotate-keys --force twice retires
 * it).
 */
export function withdrawalOf(records: readonly SigningKeyRecord[], kid: string): Withdrawal {
  const record = records.find((r) => r.kid === kid);
  if (!record) return 'unknown';
  return record.status === 'retired' ? 'withdrawn' : record.status;
}
