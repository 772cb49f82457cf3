import type { CryptoKey } from 'jose';
import type { Clock } from '@application/ports/clock';
import type { SecretBox } from '@application/ports/secret-box';
import type { SigningAlgorithm, SigningKeyRecord, SigningKeyRepository } from '@application/ports/signing-keys';
import { checkedKeys, generateSigningKey, importCheckedPublicKey, importPrivateKey, type PublishedKey } from './signing-key-material';
import { byAge, byStatusThenAge, pickActive } from './signing-key-order';
import { withdrawalOf, type Withdrawal } from './signing-key-withdrawal';
import type { ActiveSigningKey, PublishedJwk, SigningKeyManagerOptions } from './signing-key-types';

export type { ActiveSigningKey, AlgorithmChange, PublishedJwk, SigningKeyManagerOptions } from './signing-key-types';
export type { Withdrawal } from './signing-key-withdrawal';

/**
 * Owns the signing keys: creates, rotates, publishes and prunes them (CONTRACT §4). The database is the
 * source of truth; each instance caches what it last loaded and picks the same active key as every other.
 */
export class SigningKeyManager {
  private readonly skewMs: number;
  private readonly unknownKidIntervalMs: number;
  private readonly unknownTtlMs: number;
  private readonly reloadIntervalMs: number;
  private readonly windowMs: number;
  private published: PublishedKey[] = [];
  private active: ActiveSigningKey | undefined;
  private readonly publicKeys = new Map<string, CryptoKey>();
  private readonly privateKeys = new Map<string, CryptoKey>();
  private lastReloadMs = Number.NEGATIVE_INFINITY;
  /** The JWK Set as last built, and the instant it stops being right (a retired key leaves it then). */
  private jwksSnapshot: { jwks: { keys: PublishedJwk[] }; builtAtMs: number; validUntilMs: number } | undefined;
  private pendingReload: Promise<void> | undefined;
  /** Reloads started, and the latest of them whose result is in force (see reload). */
  private reloadsStarted = 0;
  private reloadInForce = 0;

  constructor(
    private readonly repository: SigningKeyRepository,
    private readonly box: SecretBox,
    readonly clock: Clock,
    private readonly options: SigningKeyManagerOptions,
  ) {
    this.skewMs = (options.clockSkewSeconds ?? 60) * 1000;
    this.unknownKidIntervalMs = (options.unknownKidReloadIntervalSeconds ?? 30) * 1000;
    this.unknownTtlMs = (options.maxAccessTokenTtlSeconds ?? 24 * 3600) * 1000;
    this.reloadIntervalMs = (options.reloadIntervalSeconds ?? 60) * 1000;
    this.windowMs = (options.publicationWindowSeconds ?? 300 + this.reloadIntervalMs / 1000) * 1000;
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
    let records = await this.repository.list();
    const now = this.clock.now();
    const alg = this.options.alg;
    if (!records.some((r) => r.status === 'active')) {
      // A first start: nothing can verify anything yet.
      await this.repository.save(await generateSigningKey(alg, this.box, 'active', now, this.options.accessTokenTtlSeconds));
      records = await this.repository.list();
    } else if (await this.promoteDueNextKey(records, now)) {
      records = await this.repository.list();
    }
    if (!records.some((r) => r.status === 'next' && r.alg === alg)) {
      await this.repository.save(await generateSigningKey(alg, this.box, 'next', now, this.options.accessTokenTtlSeconds));
      records = await this.repository.list();
    }
    await this.reload();
    const from = this.active?.alg;
    const next = nextKeyOf(records, alg);
    if (from !== undefined && from !== alg && next) {
      this.options.onAlgorithmChange?.({ from, to: alg, kid: next.kid, pending: true, effectiveAt: new Date(next.createdAt.getTime() + this.windowMs) });
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
      await this.promoteDueNextKey(await this.repository.list(), now);
    }
    await this.reload();
  }

  /**
   * Promotes the next key of the configured algorithm, when no key of it is active but a key of another is, and it
   * has been published for the window, and publishes a fresh next key, as rotate() does: true when it did.
   */
  private async promoteDueNextKey(records: SigningKeyRecord[], now: Date): Promise<boolean> {
    const alg = this.options.alg;
    if (records.some((r) => r.status === 'active' && r.alg === alg) || !records.some((r) => r.status === 'active')) return false;
    const next = nextKeyOf(records, alg);
    if (!next || now.getTime() - next.createdAt.getTime() < this.windowMs) return false;
    const from = pickActive(records, alg)?.alg ?? alg;
    await this.promote(next, records, now);
    await this.repository.save(await generateSigningKey(alg, this.box, 'next', now, this.options.accessTokenTtlSeconds));
    this.options.onAlgorithmChange?.({ from, to: alg, kid: next.kid, pending: false, effectiveAt: now });
    return true;
  }

  /**
   * Promotes the pre-published next key (the active one retires) and publishes a fresh next key. Refused, nothing
   * written, while that key was published less than `minNextKeyAgeSeconds` ago: returns its age then, else null.
   */
  async rotate(minNextKeyAgeSeconds = 0): Promise<{ refusedAgeSeconds: number } | null> {
    const now = this.clock.now();
    const records = await this.repository.list();
    const next = nextKeyOf(records, this.options.alg);
    const ageSeconds = next ? Math.max(0, Math.floor((now.getTime() - next.createdAt.getTime()) / 1000)) : Number.POSITIVE_INFINITY;
    if (ageSeconds < minNextKeyAgeSeconds) return { refusedAgeSeconds: ageSeconds };
    if (next) await this.promote(next, records, now);
    await this.repository.save(await generateSigningKey(this.options.alg, this.box, 'next', now, this.options.accessTokenTtlSeconds));
    await this.prune();
    return null;
  }

  /** The next key becomes active; every other active or next key retires (writing status and times only). */
  private async promote(next: SigningKeyRecord, records: SigningKeyRecord[], now: Date): Promise<void> {
    // The next key becomes active before the old one retires: an instance reloading between the two writes (or a
    // rotation cut short there) sees two active keys and signs with the older, never none (outside review,
    // 2026-12-02: retiring first left a reload with no key, every login and refresh a 500 for a minute).
    await this.repository.save({ ...next, status: 'active', activatedAt: now });
    for (const r of records) {
      // Every other active or next key retires too: duplicates from concurrent starts, or another alg.
      if (r.kid !== next.kid && r.status !== 'retired') {
        await this.repository.save({ ...r, status: 'retired', retiredAt: now });
      }
    }
  }

  /** Deletes retired keys no unexpired token can have been signed with, then reloads. */
  async prune(): Promise<void> {
    const now = this.clock.now();
    for (const r of await this.repository.list()) {
      if (!this.isPublished(r, now)) await this.repository.delete(r.kid);
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
    const withdrawal = withdrawalOf(await this.repository.list(), kid);
    if (withdrawal === 'withdrawn') await this.repository.delete(kid);
    await this.reload();
    return withdrawal;
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
    const records = (await this.repository.list()).filter((r) => this.isPublished(r, now)).sort(byStatusThenAge);
    const activeRecord = pickActive(records, this.options.alg);
    if (activeRecord) await this.declareTokenTtl(activeRecord);
    const published = await checkedKeys(records, (record) => this.publicKeyOf(record), activeRecord?.kid, this.options.onRejectedKey);
    // No active key in the store (a hand-edited table): keep signing with the key in hand while it is still published,
    // rather than failing every login and refresh until the next reload.
    const kept = this.active && records.some((r) => r.kid === this.active?.kid) ? this.active : undefined;
    const active = activeRecord
      ? { kid: activeRecord.kid, alg: activeRecord.alg, privateKey: await this.privateKeyOf(activeRecord) }
      : kept;
    if (ticket < this.reloadInForce) return;
    this.reloadInForce = ticket;
    [this.published, this.active] = [published, active];
    this.jwksSnapshot = undefined;
    this.lastReloadMs = now.getTime();
    this.forgetUnpublished();
  }

  /** Reloads at most once per interval; true when it did, so the caller may look the kid up again. */
  async reloadForUnknownKid(): Promise<boolean> {
    if (this.pendingReload) {
      await this.pendingReload;
      return true;
    }
    if (this.clock.now().getTime() - this.lastReloadMs < this.unknownKidIntervalMs) return false;
    this.pendingReload = this.reload().finally(() => (this.pendingReload = undefined));
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
    if (!entry || entry.record.alg !== alg || !this.isPublished(entry.record, now)) return undefined;
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
    const nowMs = this.clock.now().getTime();
    const snapshot = this.jwksSnapshot;
    // A clock set back (tests) rebuilds too: a key that had left may be published again at that instant.
    if (snapshot && nowMs < snapshot.validUntilMs && nowMs >= snapshot.builtAtMs) return snapshot.jwks;
    const now = new Date(nowMs);
    const current = this.published.filter((p) => this.isPublished(p.record, now));
    const keys = current.map(({ record }) => Object.freeze({ ...record.publicJwk, kid: record.kid, use: 'sig', alg: record.alg }) as PublishedJwk);
    const leaving = current.map(({ record }) => this.unpublishedAtMs(record));
    this.jwksSnapshot = { jwks: Object.freeze({ keys: Object.freeze(keys) as PublishedJwk[] }), builtAtMs: nowMs, validUntilMs: Math.min(Number.POSITIVE_INFINITY, ...leaving) };
    return this.jwksSnapshot.jwks;
  }

  private isPublished(record: SigningKeyRecord, now: Date): boolean {
    return this.unpublishedAtMs(record) > now.getTime();
  }

  /**
   * When a key leaves the JWKS: a retired key once its last token expired (plus skew); the others never. The
   * lifetime is the longest any signer declared on the key (unknown: the longest allowed), never this process's own
   * TTL: the process that prunes need not be one that signed (outside review, 2026-11-30).
   */
  private unpublishedAtMs(record: SigningKeyRecord): number {
    if (record.status !== 'retired') return Number.POSITIVE_INFINITY;
    if (!record.retiredAt) return Number.NEGATIVE_INFINITY;
    const ttlMs = record.maxTokenTtlSeconds === null ? this.unknownTtlMs : record.maxTokenTtlSeconds * 1000;
    return record.retiredAt.getTime() + ttlMs + this.skewMs + this.reloadIntervalMs;
  }

  /** Raises the key's declared token TTL to this process's (one conditional write, once per key and process). */
  private async declareTokenTtl(record: SigningKeyRecord): Promise<void> {
    const ttl = this.options.accessTokenTtlSeconds;
    if (record.maxTokenTtlSeconds === null || record.maxTokenTtlSeconds >= ttl) return;
    await this.repository.declareTokenTtl(record.kid, ttl);
    record.maxTokenTtlSeconds = ttl;
  }

  private async publicKeyOf(record: SigningKeyRecord): Promise<CryptoKey> {
    let key = this.publicKeys.get(record.kid);
    if (!key) this.publicKeys.set(record.kid, (key = await importCheckedPublicKey(record, this.box)));
    return key;
  }

  private async privateKeyOf(record: SigningKeyRecord): Promise<CryptoKey> {
    let key = this.privateKeys.get(record.kid);
    if (!key) this.privateKeys.set(record.kid, (key = await importPrivateKey(record, this.box)));
    return key;
  }

  private forgetUnpublished(): void {
    const kids = new Set(this.published.map((p) => p.record.kid));
    for (const kid of this.publicKeys.keys()) if (!kids.has(kid)) this.publicKeys.delete(kid);
    for (const kid of this.privateKeys.keys()) if (kid !== this.active?.kid) this.privateKeys.delete(kid);
  }
}

/** The oldest next key of the algorithm: the one a rotation promotes. */
function nextKeyOf(records: SigningKeyRecord[], alg: SigningAlgorithm): SigningKeyRecord | undefined {
  return records.filter((r) => r.status === 'next' && r.alg === alg).sort(byAge)[0];
}
