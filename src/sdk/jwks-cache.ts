import { importJWK, type CryptoKey, type JWK } from 'jose';
import { AuthError, unavailable } from './errors';
import { isRecord, readJson, send, unexpected, type FetchLike } from './http';

export interface JwksCacheOptions {
  jwksUrl: string;
  fetch: FetchLike;
  now: () => number;
  timeoutMs: number;
  /** Least time between fetches caused by an unknown kid (30 s): forged kids cannot make us hammer the JWKS. */
  unknownKidIntervalMs: number;
  /** A key set older than this is fetched again on next use (the JWKS's own max-age, 300 s). */
  maxAgeMs: number;
}

interface CachedKey {
  alg: string | undefined;
  key: CryptoKey | Uint8Array;
}

/**
 * The issuer's public keys by kid. Fetched on first use; fetched again when older than max-age, or when a
 * token names a kid it does not know (a rotation) but then at most once per interval. Concurrent callers
 * share one fetch. A failed refetch keeps the keys already known.
 */
export class JwksCache {
  private keys = new Map<string, CachedKey>();
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private pending: Promise<void> | undefined;

  constructor(private readonly options: JwksCacheOptions) {}

  /** The key for `kid`, usable for `alg` only (a JWK's own `alg` binds it), or INVALID_TOKEN. */
  async keyFor(kid: string, alg: string): Promise<CryptoKey | Uint8Array> {
    if (this.keys.size === 0) await this.refresh(true);
    else if (this.options.now() - this.fetchedAt >= this.options.maxAgeMs && this.mayRefetch()) await this.refresh(false);
    let found = this.keys.get(kid);
    if (!found && this.mayRefetch()) {
      await this.refresh(false);
      found = this.keys.get(kid);
    } else if (!found && this.pending) {
      await this.pending.catch(() => undefined);
      found = this.keys.get(kid);
    }
    if (!found || (found.alg !== undefined && found.alg !== alg)) throw new AuthError('INVALID_TOKEN', 401, 'The access token is invalid or expired.');
    return found.key;
  }

  private mayRefetch(): boolean {
    return this.options.now() - this.lastAttemptAt >= this.options.unknownKidIntervalMs;
  }

  /** One fetch for every concurrent caller; `mustSucceed`: without keys at all, an error is AUTH_UNAVAILABLE. */
  private async refresh(mustSucceed: boolean): Promise<void> {
    this.pending ??= this.load().finally(() => (this.pending = undefined));
    try {
      await this.pending;
    } catch (error) {
      if (mustSucceed || this.keys.size === 0) throw error instanceof AuthError ? error : unavailable('JWKS could not be loaded');
    }
  }

  private async load(): Promise<void> {
    this.lastAttemptAt = this.options.now();
    const response = await send(this.options.fetch, this.options.jwksUrl, { headers: { accept: 'application/json' } }, this.options.timeoutMs);
    const body = await readJson(response);
    if (!response.ok) throw unavailable(`JWKS answered ${response.status}`);
    if (!isRecord(body) || !Array.isArray(body.keys)) throw unexpected(response, 'JWKS');
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
