/** The signing-key manager's options and what it hands out (see signing-key-manager.ts). */
import type { CryptoKey } from 'jose';
import type { SigningAlgorithm, SigningKeyTransaction } from '@application/ports/signing-keys';

export interface SigningKeyManagerOptions {
  alg: SigningAlgorithm;
  /** This process's access-token lifetime: declared on a key before the process signs with it. */
  accessTokenTtlSeconds: number;
  /**
   * The longest ACCESS_TOKEN_TTL the configuration accepts (default 24 h): how long a retired key whose signers'
   * lifetime was never recorded (a row from before 2026-11-30) stays published.
   */
  maxAccessTokenTtlSeconds?: number;
  /** Clock skew verifiers tolerate; a retired key stays published this long after its last token expired. */
  clockSkewSeconds?: number;
  /** Least time between reloads triggered by an unknown kid, so forged kids cannot hammer the database. */
  unknownKidReloadIntervalSeconds?: number;
  /**
   * How often instances re-read the key set (the service's periodic reload, 60 s): an instance keeps signing with a
   * retired key until its next reload, so the key stays published this much longer too.
   */
  reloadIntervalSeconds?: number;
  /**
   * How long a key must have been in the store before it may sign: the JWKS's cache lifetime (the HTTP layer's
   * JWKS_MAX_AGE_SECONDS, 300 s) plus the reload interval, so that every verifier holds it by then (CONTRACT §4: a
   * key is published before it signs). Passed in by the composition root; default 300 s + the reload interval.
   */
  publicationWindowSeconds?: number;
  /**
   * `manage` (the service): refresh() completes a change of JWT_ALG that init() started, promoting the next key of
   * the configured algorithm once it has been published for the window. `follow` (the CLI's commands): start() and
   * refresh() only read the keys, never creating or retiring one. Default `manage`.
   */
  mode?: 'manage' | 'follow';
  /**
   * Where a rotation and a withdrawal write: one transaction each, with their audit entry, holding the keys against
   * every other change of them (the composition root's, on the service's database). Without it (tests of the key
   * rules) they write through the manager's repository, unaudited.
   */
  transact?: SigningKeyTransaction;
  /** Told of a stored key that is not published because its row fails the checks (importCheckedPublicKey). */
  onRejectedKey?: (kid: string, reason: string) => void;
  /**
   * Told when the configured algorithm is not the signing key's: `pending` (init() published a key of it and the
   * active key of `from` keeps signing until `effectiveAt`), or done (that key was promoted and signs now).
   */
  onAlgorithmChange?: (change: AlgorithmChange) => void;
}

export interface AlgorithmChange {
  from: SigningAlgorithm;
  to: SigningAlgorithm;
  /** The key of the configured algorithm that signs (or will sign) the tokens. */
  kid: string;
  pending: boolean;
  /** When that key has been published for the window: from then on (at the next refresh) it signs. */
  effectiveAt: Date;
}

export interface ActiveSigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: CryptoKey;
}

export interface PublishedJwk extends Record<string, string> {
  kid: string;
  use: 'sig';
  alg: SigningAlgorithm;
}
