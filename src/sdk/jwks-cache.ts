import { importJWK, type CryptoKey, type JWK } from 'jose';
import { AuthError, unavailable } from './errors';
import { isRecord, readJson, send, type FetchLike } from './http';

export interface JwksCacheOptions {
  jwksUrl: string;
  fetch: FetchLike;
  now: () => number;
  timeoutMs: number;
  /** Least time between fetches caused by an unknown kid (30 s): forged kids cannot make us hammer the JWKS. */
  unknownKidIntervalMs: number;
  /** A key set older than this is fetched again on next use (the JWKS's own max-age, 300 s). */
  maxAgeMs: number;
  /**
   * After a fetch that failed or left no usable key (the JWKS failed or answered an empty set), the least time
   * before the next fetch (1 s), doubled after each such fetch up to `unknownKidIntervalMs`.
   */
  keylessRetryMs: number;
}

/**
 * The most bytes of a key set read (256 KiB) and the most keys a set is taken with (100). auth-service publishes a
 * handful (the signing key, the next one, the retired ones still in use), a few KB. A longer body, or a set with more
 * entries, is not its key set: AUTH_UNAVAILABLE like any other answer that is not, and the keys known are kept.
 * Refused rather than cut to its first 100 keys: cut, a set whose newest key comes last would fail tokens as
 * INVALID_TOKEN, a 401 that signs users out, where AUTH_UNAVAILABLE says what is wrong. Until 2026-12-07 neither was
 * bounded: a broken or hostile JWKS could make every resource server read and import any number of keys (an
 * outside review).
 */
export const MAX_JWKS_BYTES = 256 * 1024;
export const MAX_JWKS_KEYS = 100;

interface CachedKey {
  alg: string | undefined;
  key: CryptoKey | Uint8Array;
}

/**
 * The issuer's public keys by kid. Fetched on first use; fetched again when older than max-age, or when a
 * token names a kid it does not know (a rotation) but then at most once per interval. Concurrent callers
 * share one fetch. A failed refetch keeps the keys already known.
 *
 * Without any usable key (the JWKS unreachable, 5xx, or an empty set) fetches back off: the next one 1 s after
 * the last, then 2, 4, 8, 16 s, then every 30 s (the unknown-kid interval); meanwhile tokens are answered as the
 * last fetch left them (AUTH_UNAVAILABLE after a failure, INVALID_TOKEN against an empty set) without a request.
 * A resource server started while auth-service recovers so gets its keys within the current wait of the
 * service's return (1 s at first, doubling, never more than 30 s), and a long outage costs one fetch per 30 s per
 * instance, not one per request (until 2026-11-30 every verify of a JWT-shaped token fetched the JWKS while it had
 * no key; an outside review found it). A successful fetch with keys ends the backoff.
 *
 * With keys known, a failed refetch backs off the same way (1 s, doubling to 30 s, counted from the last attempt)
 * instead of the 30 s unknown-kid interval, and a token naming an unknown kid is answered AUTH_UNAVAILABLE, not
 * INVALID_TOKEN, when the fetch that would have found its key failed or the last one failed and the next is not
 * due yet: its key could not be looked up, the token is not known bad (until stop 51 it was a 401, and the 30 s
 * interval kept refusing a freshly rotated key for up to 30 s after the JWKS was back; an outside review). After a
 * successful fetch the 30 s interval holds: a flood of forged kids costs at most one fetch per 30 s.
 *
 * A key set older than max-age is refreshed in the background (stale-while-revalidate): a token whose kid the
 * cached set knows is answered from it at once, not after the refetch (until stop 51 a hanging JWKS held such a
 * verify for the whole request deadline, 5 s); only a kid the cached set does not know waits for that fetch.
 */
export class JwksCache {
  private keys = new Map<string, CachedKey>();
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private pending: Promise<void> | undefined;
  /** Consecutive fetches that failed or left no usable key (the backoff), and whether the last fetch failed. */
  private misses = 0;
  private lastFailed = false;

  constructor(private readonly options: JwksCacheOptions) {}

  /**
   * The key for `kid`, usable for `alg` only (a JWK's own `alg` binds it), or INVALID_TOKEN; AUTH_UNAVAILABLE when
   * the key set, or the refetch an unknown kid needs, could not be had.
   */
  async keyFor(kid: string, alg: string): Promise<CryptoKey | Uint8Array> {
    if (this.keys.size === 0) await this.loadWithoutKeys();
    else if (this.options.now() - this.fetchedAt >= this.options.maxAgeMs && this.fetchDue()) this.refreshInBackground();
    let found = this.keys.get(kid);
    if (!found && this.keys.size > 0) {
      // An unknown kid: a rotation, or a forged kid. Fetch (or join the fetch under way) when one is due; a failure
      // of that fetch, or of the last one while the next waits, means the key could not be looked up.
      if (this.pending || this.fetchDue()) await this.refresh();
      else if (this.lastFailed) throw unavailable(`JWKS could not be loaded; next attempt in ${this.secondsToNextFetch()} s`);
      found = this.keys.get(kid);
    }
    if (!found || (found.alg !== undefined && found.alg !== alg)) throw new AuthError('INVALID_TOKEN', 401, 'The access token is invalid or expired.');
    return found.key;
  }

  /** No usable key: fetch (or join the fetch under way) unless the backoff says wait; then answer as the last fetch did. */
  private async loadWithoutKeys(): Promise<void> {
    if (this.pending || this.fetchDue()) return this.refresh();
    if (this.lastFailed) throw unavailable(`JWKS could not be loaded; next attempt in ${this.secondsToNextFetch()} s`);
  }

  /**
   * The least time between fetches after the last attempt: none before the first; after fetches that failed or
   * left no usable key, 1 s doubling to the unknown-kid interval; after a successful one, that interval (30 s).
   */
  private wait(): number {
    const { keylessRetryMs, unknownKidIntervalMs } = this.options;
    if (this.misses === 0) return this.keys.size === 0 ? 0 : unknownKidIntervalMs;
    return Math.min(keylessRetryMs * 2 ** Math.min(this.misses - 1, 30), unknownKidIntervalMs);
  }

  private fetchDue(): boolean {
    return this.options.now() - this.lastAttemptAt >= this.wait();
  }

  private secondsToNextFetch(): number {
    return Math.ceil((this.lastAttemptAt + this.wait() - this.options.now()) / 1000);
  }

  /** One fetch for every concurrent caller; its failure is AUTH_UNAVAILABLE to each (the keys known stay). */
  private async refresh(): Promise<void> {
    this.pending ??= this.load().finally(() => (this.pending = undefined));
    try {
      await this.pending;
    } catch (error) {
      throw error instanceof AuthError && error.code === 'AUTH_UNAVAILABLE' ? error : unavailable('JWKS could not be loaded');
    }
  }

  /** A stale key set is refetched without anyone waiting; a failure is kept (`lastFailed`, the backoff), not thrown. */
  private refreshInBackground(): void {
    this.refresh().catch(() => undefined);
  }

  private async load(): Promise<void> {
    this.lastAttemptAt = this.options.now();
    let failed = true;
    try {
      await this.fetchKeys();
      failed = false;
    } finally {
      this.lastFailed = failed;
      this.misses = failed || this.keys.size === 0 ? this.misses + 1 : 0;
      // The wait counts from the attempt's end: a JWKS that hangs until the timeout (5 s) would otherwise make the
      // 1, 2 and 4 s waits due before each attempt ended, and every verify wait a whole timeout (a review, stop 51).
      this.lastAttemptAt = this.options.now();
    }
  }

  private async fetchKeys(): Promise<void> {
    const response = await send(this.options.fetch, this.options.jwksUrl, { headers: { accept: 'application/json' } }, this.options.timeoutMs).catch((error: unknown) => {
      // A redirect (UNEXPECTED_RESPONSE) or a jwksUrl fetch cannot request (VALIDATION_ERROR) is the verifier's
      // configuration, not the token: the keys cannot be had, AUTH_UNAVAILABLE. Until stop 48 the verifier turned
      // them into INVALID_TOKEN, a 401 that makes callers refresh or sign the user out (an outside review).
      if (error instanceof AuthError && error.code !== 'AUTH_UNAVAILABLE') throw unavailable(`JWKS could not be fetched: ${error.message}`);
      throw error;
    });
    const body = await readJson(response, MAX_JWKS_BYTES).catch((error: unknown) => {
      // Too long (UNEXPECTED_RESPONSE): not a key set auth-service publishes, the keys cannot be had.
      if (error instanceof AuthError && error.code !== 'AUTH_UNAVAILABLE') throw unavailable(`JWKS could not be read: ${error.message}`);
      throw error;
    });
    if (!response.ok) throw unavailable(`JWKS answered ${response.status}`);
    // Not a key set at all (a proxy's or an SPA's fallback page answering 200): the keys cannot be had, as with a 5xx.
    // Until 2026-12-02 it was UNEXPECTED_RESPONSE, which the verifier turned into INVALID_TOKEN: a 401 that tells
    // callers their token is bad (session() refreshes on it) when the verifier is what cannot work (an outside review).
    if (!isRecord(body) || !Array.isArray(body.keys)) throw unavailable(`JWKS answered ${response.status} with something that is not a key set`);
    if (body.keys.length > MAX_JWKS_KEYS) throw unavailable(`JWKS answered ${body.keys.length} keys, more than the ${MAX_JWKS_KEYS} a key set is taken with`);
    const keys = new Map<string, CachedKey>();
    for (const jwk of body.keys as unknown[]) {
      if (!isRecord(jwk) || typeof jwk.kid !== 'string' || (jwk.use !== undefined && jwk.use !== 'sig')) continue;
      if ('d' in jwk || jwk.kty === 'oct') continue; // never a private or symmetric key from a key set
      const alg = typeof jwk.alg === 'string' ? jwk.alg : undefined;
      try {
        keys.set(jwk.kid, { alg, key: await importJWK(jwk as JWK, alg) });
      } catch {
        // A key this runtime cannot import cannot verify anything; skip it rather than lose the others.
      }
    }
    this.keys = keys;
    this.fetchedAt = this.options.now();
  }
}
