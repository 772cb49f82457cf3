/** High-entropy opaque secrets (refresh, verification, reset tokens) and the digest they are stored under. */
export interface OpaqueTokens {
  /** A new secret of `bytes` random bytes from a CSPRNG, URL-safe encoded, with its digest. */
  create(bytes: number): { token: string; hash: string };
  /** The digest a presented token is looked up by. */
  hash(token: string): string;
}
