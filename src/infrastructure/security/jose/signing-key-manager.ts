import type { CryptoKey } from 'jose';
import type { AuditLog } from '@application/ports/audit-log';
import type { Clock } from '@application/ports/clock';
import type { SecretBox } from '@application/ports/secret-box';
import type { SigningAlgorithm, SigningKeyRepository } from '@application/ports/signing-keys';
import { ImportedKeyCache } from './signing-key-cache';
import { checkedKeys, type PublishedKey } from './signing-key-material';
import { byStatusThenAge, pickActive } from './signing-key-order';
import { declareTokenTtl, ensureKeys, nextKeyOf, promoteDueNextKey, rotateKeys, type SigningKeyWriter } from './signing-key-promotion';
import { SigningKeyPublication } from './signing-key-publication';
import { keyRotationAuditEntry, keyWithdrawalAuditEntry } from '@application/shared/signing-key-audit';
import { withdrawalOf, type Withdrawal } from './signing-key-withdrawal';
import type { ActiveSigningKey, PublishedJwk, SigningKeyManagerOptions } from './signing-key-types';

export type { ActiveSigningKey, AlgorithmChange, PublishedJwk, SigningKeyManagerOptions } from './signing-key-types';
export type { Withdrawal } from './signing-key-withdrawal';

/** How long a failed reload for an unknown kid is answered from memory before the database is asked again. */
const FAILED_RELOAD_PAUSE_MS = 2000;

/**
 * Owns the signing keys: creates, rotates, publishes and prunes them (CONTRACT §4). The database is the
 * source of truth; each instance caches what it last loaded and picks the same active key as every other.
 */
export class SigningKeyManager {
  private readonly unknownKidIntervalMs: number;
  private readonly reloadIntervalMs: number;
  /** The write side (signing-key-promotion.ts) and the publication rules with the JWKS as last built. */
  private readonly writer: SigningKeyWriter;
  private readonly publication: SigningKeyPublication;
  private published: PublishedKey[] = [];
  private active: ActiveSigningKey | undefined;
  private readonly keys: ImportedKeyCache;
  private lastReloadMs = Number.NEGATIVE_INFINITY;
  private pendingReload: Promise<void> | undefined;
  /** The last reload for an unknown kid that failed: repeated to callers for FAILED_RELOAD_PAUSE_MS, not run again. */
  private failedReload: { at: number; error: unknown } | undefined;
  /** Reloads started, and the latest of them whose result is in force (see reload). */
  private reloadsStarted = 0;
  private reloadInForce = 0;

  constructor(
    private readonly repository: SigningKeyRepository,
    box: SecretBox,
    readonly clock: Clock,
    private readonly options: SigningKeyManagerOptions,
  ) {
    const skewMs = (options.clockSkewSeconds ?? 60) * 1000;
    this.unknownKidIntervalMs = (options.unknownKidReloadIntervalSeconds ?? 30) * 1000;
    const unknownTtlMs = (options.maxAccessTokenTtlSeconds ?? 24 * 3600) * 1000;
    this.reloadIntervalMs = (options.reloadIntervalSeconds ?? 60) * 1000;
    const windowMs = (options.publicationWindowSeconds ?? 300 + this.reloadIntervalMs / 1000) * 1000;
    this.writer = { repository, box, options, windowMs };
    this.keys = new ImportedKeyCache(box);
    this.publication = new SigningKeyPublication({ skewMs, unknownTtlMs, reloadIntervalMs: this.reloadIntervalMs });
  }

  /**
   * How long after a key is written every instance publishes it: instances re-read the keys every reload interval
   * (an unknown kid in a token makes them look sooner, a fetch of the JWKS does not).
   */
  get publicationLagSeconds(): number {
    return this.reloadIntervalMs / 1000;
  }

  /** The access-token lifetime this manager declares on the keys it signs with; a token service may not sign longer. */
  get tokenTtlSeconds(): number {
    return this.options.accessTokenTtlSeconds;
  }

  /**
   * Makes sure an active key of the configured algorithm and a pre-published next key exist. Two instances
   * starting at once may each create one; both are published and everyone signs with the oldest.
   *
   * A changed JWT_ALG (an active key of another algorithm only) switches no signer at once: a key written now is in
   * no verifier's key set yet (other instances reload every interval, verifiers cache the JWKS for 300 s). A next key
   * of the configured algorithm published for the window is promoted, as rotate() does; else one is made sure of,
   * the active key keeps signing, and refresh() promotes it once the window has passed (a new key used to become
   * active here and sign at once, refused by every verifier that had not loaded it: a review found it).
   */
  async init(): Promise<void> {
    const records = await ensureKeys(this.writer, await this.repository.list(), this.clock.now());
    const alg = this.options.alg;
    await this.reload();
    const from = this.active?.alg;
    const next = nextKeyOf(records, alg);
    if (from !== undefined && from !== alg && next) {
      this.options.onAlgorithmChange?.({ from, to: alg, kid: next.kid, pending: true, effectiveAt: new Date(next.createdAt.getTime() + this.writer.windowMs) });
    }
  }

  /** How the process starts its keys: init() in `manage` mode, a plain reload() in `follow` mode. */
  async start(): Promise<void> {
    await (this.options.mode === 'follow' ? this.reload() : this.init());
  }

  /**
   * The periodic reload. In `manage` mode, while the key that signs is not of the configured algorithm (init() found
   * JWT_ALG changed), it first promotes the next key of the configured algorithm once that key has been published for
   * the window. It creates no key: an instance left on the old JWT_ALG does not take the change back this way.
   */
  async refresh(): Promise<void> {
    if (this.options.mode !== 'follow' && this.active && this.active.alg !== this.options.alg) {
      const now = this.clock.now();
      await promoteDueNextKey(this.writer, await this.repository.list(), now);
    }
    await this.reload();
  }

  /**
   * Promotes the pre-published next key (the active one retires) and publishes a fresh next key, in one transaction
   * with its audit entry (`signing_key.rotated`; `forced` when `minNextKeyAgeSeconds` is 0, the CLI's `--force`).
   * Refused, nothing written, while that key was published less than `minNextKeyAgeSeconds` ago: returns its age
   * then, else null. Two rotations at once run one after the other (see changeKeys).
   */
  async rotate(minNextKeyAgeSeconds = 0): Promise<{ refusedAgeSeconds: number } | null> {
    const outcome = await this.changeKeys(async (keys, audit) => {
      const now = this.clock.now();
      const rotation = await rotateKeys({ ...this.writer, repository: keys }, now, minNextKeyAgeSeconds);
      if (!('refusedAgeSeconds' in rotation)) await audit?.record(keyRotationAuditEntry(rotation, minNextKeyAgeSeconds === 0, now));
      return rotation;
    });
    if ('refusedAgeSeconds' in outcome) return outcome;
    await this.prune();
    return null;
  }

  /** Deletes retired keys no unexpired token can have been signed with, then reloads. */
  async prune(): Promise<void> {
    const now = this.clock.now();
    for (const r of await this.repository.list()) {
      if (!this.publication.isPublished(r, now)) await this.repository.delete(r.kid);
    }
    await this.reload();
  }

  /**
   * Deletes a retired key at once, before its window ends, then reloads (`withdraw-key`, after a leak): a retired key
   * otherwise stays published, and verifies tokens anyone holding its private key can still mint, for the longest
   * token TTL plus skew plus a reload interval (17 min by default, up to 24 h: an outside review, 2026-12-07). Other
   * instances drop it at their next reload, which also ends its tokens' hits in their verified-token caches.
   */
  async withdraw(kid: string): Promise<Withdrawal> {
    const withdrawal = await this.changeKeys(async (keys, audit) => {
      const found = withdrawalOf(await keys.list(), kid);
      if (found !== 'withdrawn') return found;
      await keys.delete(kid);
      await audit?.record(keyWithdrawalAuditEntry(kid, this.clock.now()));
      return found;
    });
    await this.reload();
    return withdrawal;
  }

  /**
   * A rotation's or a withdrawal's writes, in the options' SigningKeyTransaction: with their audit entry, atomically,
   * one change at a time across processes. Until stop 60 they were single statements, unaudited, and two rotations at
   * once each promoted the same next key and each published a new one. Without a transaction in the options (the
   * tests of the key rules alone) the work runs on the manager's repository, and nothing is audited.
   */
  private changeKeys<T>(work: (keys: SigningKeyRepository, audit: AuditLog | null) => Promise<T>): Promise<T> {
    const transact = this.options.transact;
    return transact ? transact((keys, audit) => work(keys, audit)) : work(this.repository, null);
  }

  /**
   * Re-reads the keys; other instances call this (periodically, or on an unknown kid) to see a rotation. The key it
   * will sign with carries this process's token TTL first: whoever retires and prunes it later (a CLI with a shorter
   * ACCESS_TOKEN_TTL, an instance restarted with one) keeps it published until this process's tokens have expired.
   */
  async reload(): Promise<void> {
    // Reloads overlap (the periodic one, one on an unknown kid, a rotation's own): one that read the table before a
    // rotation must not land after one that read it since, putting the retired key back as the signer until the next
    // reload (a review of stop 55). The result of the latest reload to start wins, whichever finishes last.
    const ticket = ++this.reloadsStarted;
    const now = this.clock.now();
    const records = (await this.repository.list()).filter((r) => this.publication.isPublished(r, now)).sort(byStatusThenAge);
    const activeRecord = pickActive(records, this.options.alg);
    if (activeRecord) await declareTokenTtl(this.repository, activeRecord, this.options.accessTokenTtlSeconds);
    const published = await checkedKeys(records, (record) => this.keys.publicKeyOf(record), activeRecord?.kid, this.options.onRejectedKey);
    // No active key in the store (a hand-edited table): keep signing with the key in hand while it is still published,
    // rather than failing every login and refresh until the next reload.
    const kept = this.active && records.some((r) => r.kid === this.active?.kid) ? this.active : undefined;
    const active = activeRecord
      ? { kid: activeRecord.kid, alg: activeRecord.alg, privateKey: await this.keys.privateKeyOf(activeRecord) }
      : kept;
    if (ticket < this.reloadInForce) return;
    this.reloadInForce = ticket;
    [this.published, this.active] = [published, active];
    this.publication.forgetSnapshot();
    this.lastReloadMs = now.getTime();
    this.keys.forgetUnpublished(this.published.map((p) => p.record.kid), this.active?.kid);
  }

  /** Reloads at most once per interval; true when it did, so the caller may look the kid up again. */
  async reloadForUnknownKid(): Promise<boolean> {
    if (this.pendingReload) {
      await this.pendingReload;
      return true;
    }
    // A negative age (the clock stepped back since the last reload) counts as due (a review of clocks, stop 65).
    const now = this.clock.now().getTime();
    const age = now - this.lastReloadMs;
    if (age >= 0 && age < this.unknownKidIntervalMs) return false;
    // A failed reload is not run again for a moment: each token with a made-up kid ran one (a list and a decryption)
    // for as long as the database failed (a review of this stop's change, which made the failure an answer of its own).
    const failedAge = this.failedReload === undefined ? Number.POSITIVE_INFINITY : now - this.failedReload.at;
    if (this.failedReload !== undefined && failedAge >= 0 && failedAge < FAILED_RELOAD_PAUSE_MS) throw this.failedReload.error;
    this.pendingReload = this.reload()
      .then(() => void (this.failedReload = undefined), (error: unknown) => Promise.reject((this.failedReload = { at: now, error }).error))
      .finally(() => (this.pendingReload = undefined));
    await this.pendingReload;
    return true;
  }

  /** The algorithm of the key that signs now, or null when none is active (a database no service started on). */
  get activeAlgorithm(): SigningAlgorithm | null {
    return this.active?.alg ?? null;
  }

  activeKey(): ActiveSigningKey {
    if (!this.active) throw new Error('No active signing key: call SigningKeyManager.init() at start-up.');
    return this.active;
  }

  /** The public key for a kid, only if it is published and was made for exactly this algorithm. */
  publicKeyFor(kid: string, alg: string): CryptoKey | undefined {
    const now = this.clock.now();
    const entry = this.published.find((p) => p.record.kid === kid);
    if (!entry || entry.record.alg !== alg || !this.publication.isPublished(entry.record, now)) return undefined;
    return entry.publicKey;
  }

  publishedAlgorithms(): SigningAlgorithm[] {
    return [...new Set([this.options.alg, ...this.published.map((p) => p.record.alg)])];
  }

  /**
   * RFC 7517 JWK Set: next, active and retired-but-unexpired keys, public members only. The same (frozen)
   * object until the key set changes, by a reload or a retired key's expiry, so callers may render it once
   * per object (the HTTP layer's precomputed JWKS body and ETag).
   */
  jwks(): { keys: PublishedJwk[] } {
    return this.publication.jwks(this.published, this.clock.now().getTime());
  }
}
