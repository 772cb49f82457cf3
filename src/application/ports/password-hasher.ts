export interface PasswordHasher {
  /** A PHC string with the configured parameters. */
  hash(plain: string): Promise<string>;
  verify(hash: string, plain: string): Promise<boolean>;
  /** True when the hash was made with other parameters than the configured ones. */
  needsRehash(hash: string): boolean;
  /** Spends the same time as a verify against a real hash; used when there is no account, so both cost the same. */
  verifyDummy(plain: string): Promise<void>;
}
