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
  const key = await importJWK({ ...record.publicJwk, alg: record.alg }, record.alg);
  if (key instanceof Uint8Array) throw new Error(`Signing key ${record.kid} is not an asymmetric key.`);
  return key;
}

export async function importPrivateKey(record: SigningKeyRecord, box: SecretBox): Promise<CryptoKey> {
  let pem: string;
  try {
    pem = box.open(record.sealedPrivateKey, SEALED.signingKey(record.kid));
  } catch {
    throw new Error(
      `Cannot decrypt signing key ${record.kid}: ENCRYPTION_KEY is not the key it was sealed with, or the row's sealed key is another row's.`,
    );
  }
  return importPKCS8(pem, record.alg);
}
