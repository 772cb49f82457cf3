import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, importJWK, importPKCS8 } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import { SEALED, type SecretBox } from '@application/ports/secret-box';
import type { SigningAlgorithm, SigningKeyRecord } from '@application/ports/signing-keys';

export const SUPPORTED_ALGORITHMS: readonly SigningAlgorithm[] = ['EdDSA', 'ES256', 'RS256'];

/** Whitelist rather than "delete d": whatever private members a key type has (d, p, q, dp, dq, qi) never leave. */
const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e'] as const;

export function isSupportedAlgorithm(alg: unknown): alg is SigningAlgorithm {
  return typeof alg === 'string' && (SUPPORTED_ALGORITHMS as readonly string[]).includes(alg);
}

export function publicMembers(jwk: JWK | Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const member of PUBLIC_MEMBERS) {
    const value = (jwk as Record<string, unknown>)[member];
    if (typeof value === 'string') out[member] = value;
  }
  return out;
}

/**
 * A new key pair as a storable record; the private half is sealed before it leaves this function. It starts with the
 * creator's token TTL declared; any other process raises that before it signs with the key.
 */
export async function generateSigningKey(
  alg: SigningAlgorithm,
  box: SecretBox,
  status: 'next' | 'active',
  now: Date,
  tokenTtlSeconds: number,
): Promise<SigningKeyRecord> {
  const options = alg === 'EdDSA' ? { crv: 'Ed25519' } : alg === 'RS256' ? { modulusLength: 2048 } : {};
  const { publicKey, privateKey } = await generateKeyPair(alg, { ...options, extractable: true });
  const publicJwk = publicMembers(await exportJWK(publicKey));
  // RFC 7638 thumbprint: unique per key, reveals nothing the public key does not, and verifiers can recompute it.
  const kid = await calculateJwkThumbprint(publicJwk as JWK);
  return {
    kid,
    alg,
    publicJwk,
    sealedPrivateKey: box.seal(await exportPKCS8(privateKey), SEALED.signingKey(kid)),
    status,
    createdAt: now,
    activatedAt: status === 'active' ? now : null,
    retiredAt: null,
    maxTokenTtlSeconds: tokenTtlSeconds,
  };
}

export async function importPublicKey(record: SigningKeyRecord): Promise<CryptoKey> {
  // Public members only: anything else a row holds (a `d`, `key_ops`) is not the key's to use (a review, 2026-12-07).
  const key = await importJWK({ ...publicMembers(record.publicJwk), alg: record.alg }, record.alg);
  if (key instanceof Uint8Array) throw new Error(`Signing key ${record.kid} is not an asymmetric key.`);
  return key;
}

/**
 * The record's public key, once the row is shown to be a key pair this service made: its kid is the RFC 7638
 * thumbprint of its public JWK, and its sealed private key opens under that kid and is the public key's pair. A row
 * written by someone who can write the database but lacks ENCRYPTION_KEY (their own public key under its thumbprint,
 * or another public key under a real kid) fails, so it is never published nor trusted to verify a token (until
 * 2026-12-04 any row's public key was: an outside review).
 */
export async function importCheckedPublicKey(record: SigningKeyRecord, box: SecretBox): Promise<CryptoKey> {
  const publicJwk = publicMembers(record.publicJwk);
  if ((await calculateJwkThumbprint(publicJwk as JWK)) !== record.kid) {
    throw new Error(`Signing key ${record.kid} is not published: its kid is not the thumbprint of its public key.`);
  }
  const pair = publicMembers(await exportJWK(await importPrivateKey(record, box, true)));
  const members = new Set([...Object.keys(pair), ...Object.keys(publicJwk)]);
  if ([...members].some((member) => pair[member] !== publicJwk[member])) {
    throw new Error(`Signing key ${record.kid} is not published: its private key is not its public key's pair.`);
  }
  return importPublicKey(record);
}

export async function importPrivateKey(record: SigningKeyRecord, box: SecretBox, extractable = false): Promise<CryptoKey> {
  let pem: string;
  try {
    pem = box.open(record.sealedPrivateKey, SEALED.signingKey(record.kid));
  } catch {
    throw new Error(
      `Cannot decrypt signing key ${record.kid}: ENCRYPTION_KEY is not the key it was sealed with, or the row's sealed key is another row's.`,
    );
  }
  return importPKCS8(pem, record.alg, { extractable });
}

export interface PublishedKey {
  record: SigningKeyRecord;
  publicKey: CryptoKey;
}

/**
 * The records whose rows pass the checks (`publicKeyOf`, importCheckedPublicKey), with their public keys; the others
 * are left out and reported. The key to sign with (`signingKid`) must pass: its failure throws (another
 * ENCRYPTION_KEY, say), as it did before the checks.
 */
export async function checkedKeys(
  records: SigningKeyRecord[],
  publicKeyOf: (record: SigningKeyRecord) => Promise<CryptoKey>,
  signingKid: string | undefined,
  onRejected?: (kid: string, reason: string) => void,
): Promise<PublishedKey[]> {
  const checked = await Promise.all(
    records.map(async (record): Promise<PublishedKey | null> => {
      try {
        return { record, publicKey: await publicKeyOf(record) };
      } catch (error) {
        if (record.kid === signingKid) throw error;
        onRejected?.(record.kid, error instanceof Error ? error.message : String(error));
        return null;
      }
    }),
  );
  return checked.filter((entry): entry is PublishedKey => entry !== null);
}
