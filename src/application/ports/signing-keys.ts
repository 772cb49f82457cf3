import type { AuditLog } from './audit-log';

export type SigningAlgorithm = 'EdDSA' | 'ES256' | 'RS256';

/**
 * A signing key as stored. `next`: published in the JWKS, not yet signing; `active`: signs new tokens;
 * `retired`: no longer signs, still published until every token it signed has expired.
 */
export interface SigningKeyRecord {
  kid: string;
  alg: SigningAlgorithm;
  /** Public JWK members only (kty, crv, x, y, n, e). */
  publicJwk: Record<string, string>;
  /** The private key as PKCS#8 PEM, sealed by the SecretBox. */
  sealedPrivateKey: string;
  status: 'next' | 'active' | 'retired';
  createdAt: Date;
  activatedAt: Date | null;
  retiredAt: Date | null;
  /**
   * The longest access-token lifetime (seconds) of any process that may have signed with this key, each declared by
   * the signer before it signs: a retired key stays published for this long (plus skew) after `retiredAt`, whatever
   * the TTL of the process that retires or prunes it. `null` for keys from before it was recorded: unknown, counted
   * as the longest ACCESS_TOKEN_TTL the configuration allows.
   */
  maxTokenTtlSeconds: number | null;
}

export interface SigningKeyRepository {
  list(): Promise<SigningKeyRecord[]>;
  /**
   * Inserts or updates by kid. An update changes `status`, `activatedAt` and `retiredAt` only: the key material (alg,
   * public JWK, sealed private key, `createdAt`) stays as stored, and so does `maxTokenTtlSeconds` (only
   * `declareTokenTtl` changes it). A caller saving the copy it listed (a rotation retiring the key) cannot undo a
   * signer's concurrent declaration, nor a concurrent `reseal` of the private key.
   */
  save(key: SigningKeyRecord): Promise<void>;
  /**
   * Raises the key's `maxTokenTtlSeconds` to `seconds` in one atomic step; never lowers it and leaves `null` (unknown,
   * counted as the longest) alone. A signer calls it before it signs with the key.
   */
  declareTokenTtl(kid: string, seconds: number): Promise<void>;
  delete(kid: string): Promise<void>;
}

/**
 * Runs `work` in one transaction that holds the signing keys against every other change of them (a rotation or a
 * withdrawal, from any process; readers, the reloads and the JWKS, never wait): the key writes and their audit entry
 * commit together or not at all, and two changes at once run one after the other, each seeing the other's result.
 */
export type SigningKeyTransaction = <T>(work: (keys: SigningKeyRepository, audit: AuditLog) => Promise<T>) => Promise<T>;
