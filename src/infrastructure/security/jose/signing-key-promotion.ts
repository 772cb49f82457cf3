import type { SecretBox } from '@application/ports/secret-box';
import type { KeyRotation } from '@application/shared/signing-key-audit';
import type { SigningAlgorithm, SigningKeyRecord, SigningKeyRepository } from '@application/ports/signing-keys';
import { generateSigningKey } from './signing-key-material';
import { byAge, pickActive } from './signing-key-order';
import type { SigningKeyManagerOptions } from './signing-key-types';

/** The write side of SigningKeyManager (init, refresh, rotate, reload): what creating and promoting keys needs. */
export interface SigningKeyWriter {
  readonly repository: SigningKeyRepository;
  readonly box: SecretBox;
  readonly options: SigningKeyManagerOptions;
  /** How long a key must have been in the store before it may sign (SigningKeyManagerOptions.publicationWindowSeconds). */
  readonly windowMs: number;
}

/** Stores a new key of the configured algorithm, carrying this process's token TTL; returns its kid. */
async function saveNewKey(writer: SigningKeyWriter, status: 'next' | 'active', now: Date): Promise<string> {
  const key = await generateSigningKey(writer.options.alg, writer.box, status, now, writer.options.accessTokenTtlSeconds);
  await writer.repository.save(key);
  return key.kid;
}

/**
 * What init() writes, given the stored records: an active key on a first start (else the due next key promoted, see
 * promoteDueNextKey) and a next key of the configured algorithm unless one exists. Returns the records as they are then.
 */
export async function ensureKeys(writer: SigningKeyWriter, stored: SigningKeyRecord[], now: Date): Promise<SigningKeyRecord[]> {
  let records = stored;
  const alg = writer.options.alg;
  if (!records.some((r) => r.status === 'active')) {
    // A first start: nothing can verify anything yet.
    await saveNewKey(writer, 'active', now);
    records = await writer.repository.list();
  } else if (await promoteDueNextKey(writer, records, now)) {
    records = await writer.repository.list();
  }
  if (!records.some((r) => r.status === 'next' && r.alg === alg)) {
    await saveNewKey(writer, 'next', now);
    records = await writer.repository.list();
  }
  return records;
}

/**
 * Promotes the next key of the configured algorithm, when no key of it is active but a key of another is, and it
 * has been published for the window, and publishes a fresh next key, as rotate() does: true when it did.
 */
export async function promoteDueNextKey(writer: SigningKeyWriter, records: SigningKeyRecord[], now: Date): Promise<boolean> {
  const alg = writer.options.alg;
  if (records.some((r) => r.status === 'active' && r.alg === alg) || !records.some((r) => r.status === 'active')) return false;
  const next = nextKeyOf(records, alg);
  if (!next || now.getTime() - next.createdAt.getTime() < writer.windowMs) return false;
  const from = pickActive(records, alg)?.alg ?? alg;
  await promote(writer.repository, next, records, now);
  await saveNewKey(writer, 'next', now);
  writer.options.onAlgorithmChange?.({ from, to: alg, kid: next.kid, pending: false, effectiveAt: now });
  return true;
}

/**
 * What rotate() writes (through the writer's repository: the rotation's transaction): the next key promoted, if any,
 * and a fresh next key; returns the kids. Nothing, while that key was published less than `minNextKeyAgeSeconds`
 * ago: returns its age then.
 */
export async function rotateKeys(writer: SigningKeyWriter, now: Date, minNextKeyAgeSeconds: number): Promise<KeyRotation | { refusedAgeSeconds: number }> {
  const records = await writer.repository.list();
  const next = nextKeyOf(records, writer.options.alg);
  const ageSeconds = next ? Math.max(0, Math.floor((now.getTime() - next.createdAt.getTime()) / 1000)) : Number.POSITIVE_INFINITY;
  if (ageSeconds < minNextKeyAgeSeconds) return { refusedAgeSeconds: ageSeconds };
  const retired = next ? await promote(writer.repository, next, records, now) : [];
  return { promoted: next?.kid ?? null, retired, next: await saveNewKey(writer, 'next', now) };
}

/**
 * The next key becomes active; every other active or next key retires (writing status and times only). Returns the
 * kids it retired.
 */
async function promote(repository: SigningKeyRepository, next: SigningKeyRecord, records: SigningKeyRecord[], now: Date): Promise<string[]> {
  // The next key becomes active before the old one retires: an instance reloading between the two writes (or a
  // rotation cut short there) sees two active keys and signs with the older, never none (outside review,
  // 2026-12-02: retiring first left a reload with no key, every login and refresh a 500 for a minute).
  await repository.save({ ...next, status: 'active', activatedAt: now });
  const retired: string[] = [];
  for (const r of records) {
    // Every other active or next key retires too: duplicates from concurrent starts, or another alg.
    if (r.kid !== next.kid && r.status !== 'retired') {
      await repository.save({ ...r, status: 'retired', retiredAt: now });
      retired.push(r.kid);
    }
  }
  return retired;
}

/** The oldest next key of the algorithm: the one a rotation promotes. */
export function nextKeyOf(records: SigningKeyRecord[], alg: SigningAlgorithm): SigningKeyRecord | undefined {
  return records.filter((r) => r.status === 'next' && r.alg === alg).sort(byAge)[0];
}

/** Raises the key's declared token TTL to this process's (one conditional write, once per key and process). */
export async function declareTokenTtl(repository: SigningKeyRepository, record: SigningKeyRecord, ttl: number): Promise<void> {
  if (record.maxTokenTtlSeconds === null || record.maxTokenTtlSeconds >= ttl) return;
  await repository.declareTokenTtl(record.kid, ttl);
  record.maxTokenTtlSeconds = ttl;
}
