import { AuthError, checkedToken, isAnswerLost, isTransient } from './errors';
import type { FetchLike } from './http';
import type { Tokens } from './types';

export interface SessionOptions {
  /** Called with every new tokens object after a refresh: store it (the old refresh token is spent). */
  onTokens?: (tokens: Tokens) => void | Promise<void>;
}

/** `fetch` for absolute URLs with the session's bearer token; `tokens` is the newest tokens object. */
export interface SessionFetch {
  (input: string | URL, init?: RequestInit): Promise<Response>;
  readonly tokens: Tokens;
}

/**
 * A refresh whose answer was lost (a timeout, a reset connection: isAnswerLost) may have rotated the refresh token
 * all the same. The service gives the token just replaced the same new pair for 10 s (REFRESH_GRACE_PERIOD) and
 * revokes the session when it comes later (reuse detection). So the refresh is sent again at once with the same
 * token, REFRESH_ATTEMPTS times in all, while less than this has passed since the first attempt whose answer was
 * lost (2 s kept for the request's way and the servers' clocks). Past it the error goes to the caller and the token
 * is kept: most such losses are an outage the request never crossed, after which the token still works; one the
 * service had carried out is then reuse, as before. (A first version ended the session there instead, which signed
 * every session out in any outage of 10 s: a review of stop 65.) Until stop 65 a lost answer was final: the next
 * refresh, often more than 10 s later, presented the token again and the service revoked the session.
 */
export const REFRESH_REPLAY_WINDOW_MS = 8000;
/** Fewer than the circuit breaker's threshold (5): one refresh's lost answers alone do not open the circuit. */
export const REFRESH_ATTEMPTS = 4;
/**
 * After a lost answer, a failure that did nothing (a refused connection while the instance that rotated restarts, a
 * proxy's 502-504) keeps the window open: waited for this, times the attempt, then sent again.
 */
const REPLAY_PAUSE_MS = 250;

/**
 * On a 401 with WWW-Authenticate (the token refused) the session refreshes once and retries once. Concurrent 401s share one refresh; a call that was
 * refused with a token already replaced just retries with the newer one. When the refresh token itself is
 * refused (the session is over) the original 401 response is returned and no further refresh is tried. When the
 * access token a refresh just gave is refused too (a resource server that takes none of this session's tokens: a
 * wrong audience, say), its 401 is returned, and that token gets no further refresh until it expires: until
 * 2026-12-04 every call refreshed again, rotating the session's refresh token on each request and running into
 * its rate limit (an outside review).
 * Request bodies must be replayable (string, URLSearchParams, Blob, ...), not a stream. An access token that
 * cannot be one (empty, or not visible ASCII) rejects with AuthError (UNAUTHENTICATED, INVALID_TOKEN) before
 * anything is sent, never with an error that quotes it.
 */
export function createSession(tokens: Tokens, options: SessionOptions, refresh: (refreshToken: string) => Promise<Tokens>, fetchFn: FetchLike): SessionFetch {
  let current = tokens;
  /** When `current` arrived (the first: when the session was made), on this machine's clock. */
  let receivedAt = Date.now();
  let refreshing: Promise<Tokens> | undefined;
  let ended = false;
  /** An access token refused on its first use after the refresh that gave it: refreshing does not help it. */
  let refusedWhenNew: string | undefined;
  /** A refresh, sent again at once while its answers are lost (see REFRESH_REPLAY_WINDOW_MS). */
  const refreshConfirmed = async (refreshToken: string): Promise<Tokens> => {
    let lostSince: number | undefined;
    for (let attempt = 1; ; attempt += 1) {
      const sentAt = Date.now();
      try {
        return await refresh(refreshToken);
      } catch (error) {
        const lost = isAnswerLost(error);
        if (!lost && (lostSince === undefined || !isTransient(error))) throw error;
        lostSince ??= sentAt;
        if (attempt >= REFRESH_ATTEMPTS || Date.now() - lostSince >= REFRESH_REPLAY_WINDOW_MS) throw error;
        if (!lost) await new Promise((resolve) => setTimeout(resolve, REPLAY_PAUSE_MS * attempt));
      }
    }
  };

  const refreshFrom = (used: string): Promise<Tokens> => {
    if (current.access_token !== used) return Promise.resolve(current);
    refreshing ??= refreshConfirmed(current.refresh_token)
      .then(async (next) => {
        current = next;
        receivedAt = Date.now();
        await options.onTokens?.(next);
        return next;
      })
      .finally(() => (refreshing = undefined));
    return refreshing;
  };

  const withBearer = (init: RequestInit | undefined, token: string): RequestInit => {
    const headers = new Headers(init?.headers);
    // Checked first: `Headers` refuses a token that cannot go into a header with a TypeError that quotes it.
    headers.set('authorization', `Bearer ${checkedToken(token)}`);
    return { ...init, headers };
  };

  const sessionFetch = async (input: string | URL, init?: RequestInit): Promise<Response> => {
    const used = current.access_token;
    const first = await fetchFn(input, withBearer(init, used));
    // Only a refused token (RFC 6750 §3: a 401 with WWW-Authenticate) is worth a refresh. A 401 without it is an
    // answer about the request, such as a wrong current password (INVALID_CREDENTIALS): sent again, it was checked
    // and counted twice, and the refresh token rotated for nothing.
    if (first.status !== 401 || ended || !first.headers.has('www-authenticate')) return first;
    if (used === refusedWhenNew && !expired(current, receivedAt)) return first;
    let next: Tokens;
    try {
      next = await refreshFrom(used);
    } catch (error) {
      if (error instanceof AuthError && error.status === 401) {
        ended = true;
        return first;
      }
      throw error;
    }
    // Done with before the retry: its body cancelled, not read (until 2026-12-07 it was read whole, however long
    // the refusing server made it).
    await first.body?.cancel().catch(() => undefined);
    const retried = await fetchFn(input, withBearer(init, next.access_token));
    if (retried.status === 401 && retried.headers.has('www-authenticate')) refusedWhenNew = next.access_token;
    return retried;
  };

  return Object.defineProperty(sessionFetch, 'tokens', { get: () => current, enumerable: true }) as SessionFetch;
}

/**
 * Whether the access token has expired: `expires_in` seconds after it arrived, both on this machine's clock, so a
 * clock behind the server's does not keep a refused token past its end (until stop 65 the server's `expires_at` was
 * compared with this clock: one an hour behind kept answering 401 for an hour without refreshing; a review of
 * clocks). Without a usable `expires_in`, by `expires_at`; one that cannot be read counts as expired.
 */
function expired(tokens: Tokens, receivedAt: number): boolean {
  const lifetime = tokens.expires_in;
  if (typeof lifetime === 'number' && Number.isFinite(lifetime) && lifetime >= 0) return Date.now() >= receivedAt + lifetime * 1000;
  const at = Date.parse(tokens.expires_at);
  return !(at > Date.now());
}
