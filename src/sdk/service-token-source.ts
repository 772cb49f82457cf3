import { withRetries, type BackoffOptions } from './backoff';
import { AuthError, isTransient } from './errors';
import { basicAuth, checkTimeoutMs, globalFetch, isRecord, readJson, retryAfterSeconds, send, unexpected, type FetchLike } from './http';

export interface ServiceTokenSourceOptions extends BackoffOptions {
  /** auth-service's RFC 6749 token endpoint, e.g. https://auth.example.com/oauth/token */
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Space-separated scopes to ask for (default: the client's allowed scopes). */
  scope?: string;
  /** HTTP Basic (default, RFC 6749 §2.3.1) or the credentials in the form body. */
  authMethod?: 'basic' | 'body';
  /**
   * A token is replaced this long before it expires, in seconds (default 60), but never earlier than half its
   * lifetime: with a 60 s token (the service's ACCESS_TOKEN_TTL may be that short) it is renewed after 30 s.
   */
  refreshBeforeSeconds?: number;
  /** Deadline of one request in whole ms, 1 to 2^31-1 (default 5 s); anything else is a TypeError here. */
  timeoutMs?: number;
  fetch?: FetchLike;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
}

/**
 * How long before its expiry a cached token stops being served while its renewal fails: the request it goes out
 * with still needs to reach and be checked by the callee (whose clock may be a little ahead).
 */
export const EXPIRY_SAFETY_MS = 5000;
/** After a failed renewal, while the old token is served, the next renewal attempt waits this long. */
export const RENEWAL_PAUSE_MS = 5000;

/**
 * A token fetched by the renewal an invalidate() caused, and invalidated in its turn less than this long after it was
 * fetched, was refused when new: a new token does not help (the callee refuses this client's tokens: a wrong
 * audience or scope, say). It is not dropped again; it is served until its normal renewal point. See invalidate.
 */
export const REFUSED_WHEN_NEW_MS = 10_000;

interface Cached {
  token: string;
  /** When it was fetched (this clock). */
  fetchedAt: number;
  /** Fetched by the renewal an invalidate() caused (the token before it was refused). */
  replacedRefused: boolean;
  /** Refused when new (see REFUSED_WHEN_NEW_MS): invalidate() keeps it. */
  refusedWhenNew?: boolean;
  /** From here on a new token is asked for. */
  renewAt: number;
  /** The token's expiry as expires_in said (on this clock). */
  expiresAt: number;
  /** Set while renewal is failing and the old token is served: no new attempt before this instant. */
  retryAt?: number;
}

/** The longest pause a 429's Retry-After is taken for (a larger value is read as this). */
export const MAX_SLOW_DOWN_MS = 15 * 60 * 1000;
/**
 * The longest pause a 5xx's Retry-After is taken for: an outage's end is not scheduled as a quota's is (the service
 * asks 1 to 5 s; a proxy's maintenance page may ask an hour), so after this one attempt sequence looks again.
 */
export const MAX_UNAVAILABLE_PAUSE_MS = 60 * 1000;

/**
 * A 5xx with Retry-After that reaches the callers (no usable token to serve): the pause it asks for, in ms (at least
 * RENEWAL_PAUSE_MS, at most MAX_UNAVAILABLE_PAUSE_MS), repeated to callers without a request as a 429's is; null for
 * any other failure. Until stop 65 it was not remembered: each getToken() during the outage sent its 4 requests.
 */
function unavailableMs(error: unknown): number | null {
  if (!(error instanceof AuthError) || error.status < 500 || error.retryAfterSeconds === undefined) return null;
  return Math.min(MAX_UNAVAILABLE_PAUSE_MS, Math.max(RENEWAL_PAUSE_MS, error.retryAfterSeconds * 1000));
}

/**
 * A 429 from the token endpoint (its per-client quota): the pause it asks for, in ms (Retry-After, at least
 * RENEWAL_PAUSE_MS, at most MAX_SLOW_DOWN_MS); null for any other failure.
 */
function slowDownMs(error: unknown): number | null {
  if (!(error instanceof AuthError) || error.status !== 429) return null;
  const seconds = Number(error.details?.['retry_after_seconds']);
  const asked = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
  return Math.min(MAX_SLOW_DOWN_MS, Math.max(RENEWAL_PAUSE_MS, asked));
}

/**
 * An answer that is not the token endpoint's (a redirect, which the SDK does not follow, or a body that is not a
 * token response: a proxy's or an ingress's page in front of auth-service). Like an outage, it says nothing about
 * the client's credentials, so a still-usable cached token keeps being served (until 2026-12-05 it was final like a
 * 4xx, and every caller failed with a valid token in hand).
 */
function notTheEndpoint(error: unknown): boolean {
  return error instanceof AuthError && error.code === 'UNEXPECTED_RESPONSE';
}

/** The token may still be handed out: more than EXPIRY_SAFETY_MS before it expires. */
function usable(cached: Cached, now: number): boolean {
  return now < cached.expiresAt - EXPIRY_SAFETY_MS;
}

/**
 * Client-credentials access tokens for calling other services (RFC 6749 §4.4). A token is reused until 60 s
 * (`refreshBeforeSeconds`) before it expires, or until half its lifetime when that comes later: a margin as long
 * as the lifetime would renew on every call and run into the token endpoint's per-client rate limit (an outside
 * review, 2026-11-30: with 60 s tokens 30 calls made 11 requests). Concurrent callers share one request; network errors and 5xx are retried with capped
 * exponential backoff and full jitter; a 4xx (bad credentials, scope) is final and rejects with the
 * RFC 6749 §5.2 error upper-cased as the code (INVALID_CLIENT, INVALID_SCOPE, ...).
 * A renewal that cannot reach the endpoint does not fail callers while the old token is still valid: they get the
 * old token until EXPIRY_SAFETY_MS before it expires, and renewal is retried in the background, one attempt at a
 * time, RENEWAL_PAUSE_MS after the last failure ended. Past that point a failure rejects (AUTH_UNAVAILABLE).
 */
export class ServiceTokenSource {
  private cached: Cached | undefined;
  private pending: Promise<string> | undefined;
  /** A 429, or a 5xx with Retry-After, with no token to serve: repeated to callers, without a request, until its pause is over. */
  private slowDown: { error: unknown; until: number } | undefined;
  private readonly now: () => number;
  /** invalidate() dropped a token since the last one was fetched: the next one replaces a refused one. */
  private invalidated = false;

  constructor(private readonly options: ServiceTokenSourceOptions) {
    checkTimeoutMs(options.timeoutMs);
    this.now = options.now ?? Date.now;
  }

  getToken(): Promise<string> {
    const now = this.now();
    const cached = this.cached;
    if (cached && now < cached.renewAt) return Promise.resolve(cached.token);
    if (cached?.retryAt !== undefined && usable(cached, now)) {
      // A renewal failed: the old token is served at once while the next attempt (one at a time, no earlier than
      // retryAt) runs in the background; its outcome lands in the cache.
      if (now >= cached.retryAt) this.renew().catch(() => undefined);
      return Promise.resolve(cached.token);
    }
    if (this.slowDown && now < this.slowDown.until) return Promise.reject(this.slowDown.error);
    return this.renew();
  }

  /**
   * The callee answered 401 to `token` (pass the token the refused request carried): drop it, so the next getToken()
   * asks for a new one. Only while it is still the cached token: a 401 to an older token, arriving after a renewal
   * (a burst of requests refused with the old one), leaves the newer token alone. And a token that the renewal an
   * invalidation caused fetched, refused in its turn within REFUSED_WHEN_NEW_MS of being fetched, is kept until its
   * normal renewal point: a callee that refuses every token of this client costs two token requests per token
   * lifetime, not one per call (as session() stops refreshing for a token refused when new). Without `token` (the form
   * before 2026-12-07) the cached token, whichever it is, counts as the one refused.
   * Until 2026-12-07 invalidate() dropped whatever was cached: each stale 401 evicted the fresh token, and a callee
   * answering 401 to everything made every call a token request, into the endpoint's 429 quota, after which getToken()
   * rejected SLOW_DOWN for every callee (an outside review).
   */
  invalidate(token?: string): void {
    const cached = this.cached;
    if (!cached || (token !== undefined && token !== cached.token) || cached.refusedWhenNew) return;
    if (cached.replacedRefused && this.now() - cached.fetchedAt < REFUSED_WHEN_NEW_MS) {
      cached.refusedWhenNew = true;
      return;
    }
    this.cached = undefined;
    this.invalidated = true;
  }

  /** One renewal at a time (concurrent callers share it), its retries included. */
  private renew(): Promise<string> {
    this.pending ??= withRetries(() => this.request(), isTransient, this.options)
      .catch((error: unknown) => this.fallBack(error))
      .finally(() => (this.pending = undefined));
    return this.pending;
  }

  /**
   * A renewal that could not reach the token endpoint (network, timeout, 5xx) while the cached token is still
   * usable resolves to that token, and the next attempt waits RENEWAL_PAUSE_MS. So does a 429 (the endpoint's
   * per-client quota: "ask less often"), whose next attempt waits its Retry-After; with no usable token its error is
   * repeated to callers without a request until then, so that callers do not keep the quota tripped (until
   * 2026-12-02 a 429 was final like any 4xx: the still-valid token was not served, and every call asked again; an
   * outside review found it). So does an answer that is not the token endpoint's (a redirect, a proxy's page: see
   * notTheEndpoint), not retried in a loop, the next attempt after RENEWAL_PAUSE_MS. Any other 4xx is final (bad credentials or scope: the old token is not served in
   * place of the answer), as is any failure once the token is nearly expired; one that is a 5xx with Retry-After is
   * then repeated to callers without a request until its pause is over (unavailableMs), as a 429 is.
   */
  private fallBack(error: unknown): string {
    const cached = this.cached;
    const now = this.now();
    const pause = slowDownMs(error);
    // Remembered whether or not a token is served now: once it stops being usable, the pause still holds.
    if (pause !== null) this.slowDown = { error, until: now + pause };
    if (cached && (isTransient(error) || pause !== null || notTheEndpoint(error)) && usable(cached, now)) {
      cached.retryAt = now + (pause ?? RENEWAL_PAUSE_MS);
      return cached.token;
    }
    if (cached) cached.retryAt = undefined;
    const outage = unavailableMs(error);
    if (outage !== null) this.slowDown = { error, until: now + outage };
    throw error;
  }

  private async request(): Promise<string> {
    const { clientId, clientSecret, scope } = this.options;
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (scope) form.set('scope', scope);
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (this.options.authMethod === 'body') {
      form.set('client_id', clientId);
      form.set('client_secret', clientSecret);
    } else {
      headers.authorization = basicAuth(clientId, clientSecret);
    }
    const response = await send(this.options.fetch ?? globalFetch, this.options.tokenUrl, { method: 'POST', headers, body: form.toString() }, this.options.timeoutMs ?? 5000);
    const body = await readJson(response);
    if (response.status >= 500) throw unexpected(response, 'token endpoint', this.now());
    if (!response.ok) {
      const error = isRecord(body) && typeof body.error === 'string' && /^[a-z_]{1,64}$/.test(body.error) ? body.error : 'invalid_request';
      const description = isRecord(body) && typeof body.error_description === 'string' ? `: ${body.error_description}` : '';
      const retryAfter = response.status === 429 ? retryAfterSeconds(response.headers.get('retry-after'), this.now()) : null;
      const details = retryAfter === null ? undefined : { retry_after_seconds: retryAfter };
      throw new AuthError(error.toUpperCase(), response.status, `token endpoint refused the request (${error})${description}`, details, undefined, retryAfter ?? undefined);
    }
    if (!isRecord(body) || typeof body.access_token !== 'string' || String(body.token_type).toLowerCase() !== 'bearer') {
      throw unexpected(response, 'token endpoint');
    }
    const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 0;
    const margin = Math.min(this.options.refreshBeforeSeconds ?? 60, expiresIn / 2);
    const now = this.now();
    this.cached = { token: body.access_token, fetchedAt: now, replacedRefused: this.invalidated, renewAt: now + (expiresIn - margin) * 1000, expiresAt: now + expiresIn * 1000 };
    this.invalidated = false;
    this.slowDown = undefined;
    return body.access_token;
  }
}
