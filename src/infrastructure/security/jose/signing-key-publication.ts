import type { SigningKeyRecord } from '@application/ports/signing-keys';
import { publicMembers, type PublishedKey } from './signing-key-material';
import type { PublishedJwk } from './signing-key-types';

/** The numbers a key's publication depends on (SigningKeyManager reads them from its options), in milliseconds. */
export interface PublicationRules {
  /** Clock skew verifiers tolerate. */
  skewMs: number;
  /** The longest token lifetime allowed: a retired key's, when no signer declared one. */
  unknownTtlMs: number;
  /** How often instances re-read the key set. */
  reloadIntervalMs: number;
}

/**
 * When a key leaves the JWKS, and the JWK Set of the keys still in it (SigningKeyManager's publication rules): the
 * set as last built is kept with the instant it stops being right (a retired key leaves it then).
 */
export class SigningKeyPublication {
  private snapshot: { jwks: { keys: PublishedJwk[] }; builtAtMs: number; validUntilMs: number } | undefined;

  constructor(private readonly rules: PublicationRules) {}

  isPublished(record: SigningKeyRecord, now: Date): boolean {
    return this.unpublishedAtMs(record) > now.getTime();
  }

  /**
   * When a key leaves the JWKS: a retired key once its last token expired (plus skew); the others never. The
   * lifetime is the longest any signer declared on the key (unknown: the longest allowed), never this process's own
   * TTL: the process that prunes need not be one that signed (outside review, 2026-11-30).
   */
  unpublishedAtMs(record: SigningKeyRecord): number {
    if (record.status !== 'retired') return Number.POSITIVE_INFINITY;
    if (!record.retiredAt) return Number.NEGATIVE_INFINITY;
    const ttlMs = record.maxTokenTtlSeconds === null ? this.rules.unknownTtlMs : record.maxTokenTtlSeconds * 1000;
    return record.retiredAt.getTime() + ttlMs + this.rules.skewMs + this.rules.reloadIntervalMs;
  }

  /**
   * The JWK Set of the keys among `published` still published at `nowMs`, public members only: the same (frozen)
   * object until the key set changes, by forgetSnapshot() (a reload) or a retired key's expiry.
   */
  jwks(published: readonly PublishedKey[], nowMs: number): { keys: PublishedJwk[] } {
    const snapshot = this.snapshot;
    // A clock set back (tests) rebuilds too: a key that had left may be published again at that instant.
    if (snapshot && nowMs < snapshot.validUntilMs && nowMs >= snapshot.builtAtMs) return snapshot.jwks;
    const now = new Date(nowMs);
    const current = published.filter((p) => this.isPublished(p.record, now));
    // The row's public members only: a row's other members (a `d` or `key_ops` written by someone who can write the
    // database) pass the pair check, which compares public members, and must not reach verifiers (a review, 2026-12-07).
    const keys = current.map(({ record }) => Object.freeze({ ...publicMembers(record.publicJwk), kid: record.kid, use: 'sig', alg: record.alg }) as PublishedJwk);
    const leaving = current.map(({ record }) => this.unpublishedAtMs(record));
    this.snapshot = { jwks: Object.freeze({ keys: Object.freeze(keys) as PublishedJwk[] }), builtAtMs: nowMs, validUntilMs: Math.min(Number.POSITIVE_INFINITY, ...leaving) };
    return this.snapshot.jwks;
  }

  /** The key set changed (a reload): the next jwks() builds the set anew. */
  forgetSnapshot(): void {
    this.snapshot = undefined;
  }
}
