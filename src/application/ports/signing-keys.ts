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
}

export interface SigningKeyRepository {
  list(): Promise<SigningKeyRecord[]>;
  /** Inserts or updates by kid. */
  save(key: SigningKeyRecord): Promise<void>;
  delete(kid: string): Promise<void>;
}
