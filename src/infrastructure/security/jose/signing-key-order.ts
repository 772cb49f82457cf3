import type { SigningAlgorithm, SigningKeyRecord } from '@application/ports/signing-keys';

/** Which published key signs, and in what order the key set is listed: the same choice on every instance. */
const STATUS_ORDER = { active: 0, next: 1, retired: 2 } as const;

/** Prefer the configured alg; fall back to any active key so an instance with an old JWT_ALG still signs. */
export function pickActive(records: SigningKeyRecord[], alg: SigningAlgorithm): SigningKeyRecord | undefined {
  const active = records.filter((r) => r.status === 'active').sort(byAge);
  return active.find((r) => r.alg === alg) ?? active[0];
}

/** Oldest first, ties broken by kid, so every instance makes the same choice. */
export function byAge(a: SigningKeyRecord, b: SigningKeyRecord): number {
  const at = (a.activatedAt ?? a.createdAt).getTime();
  const bt = (b.activatedAt ?? b.createdAt).getTime();
  return at - bt || (a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0);
}

export function byStatusThenAge(a: SigningKeyRecord, b: SigningKeyRecord): number {
  return STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || byAge(a, b);
}
