/**
 * `signal` (optional, the caller's ClientContext.signal): aborted before the call's turn comes (its client gone),
 * the hash or verify is not run and the call rejects as a refused one does (SERVICE_UNAVAILABLE, no verdict on the
 * password); one already running finishes.
 */
export interface PasswordHasher {
  /** A PHC string with the configured parameters. */
  hash(plain: string, signal?: AbortSignal): Promise<string>;
  verify(hash: string, plain: string, signal?: AbortSignal): Promise<boolean>;
  /** True when the hash was made with other parameters than the configured ones. */
  needsRehash(hash: string): boolean;
  /** Spends the same time as a verify against a real hash; used when there is no account, so both cost the same. */
  verifyDummy(plain: string, signal?: AbortSignal): Promise<void>;
}
