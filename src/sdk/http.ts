import { answerLost, AuthError, notSent, unavailable } from './errors';

/** The subset of `fetch` the SDK uses; Node 20's global fetch by default, injectable (a proxy, a counter). */
export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

export const globalFetch: FetchLike = (input, init) => fetch(input, init);

/** The longest deadline Node's timers take (2^31-1 ms, about 24.8 days): above it a timer fires after 1 ms. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Refuses, at construction, a `timeoutMs` no request can be made with: not a whole number of milliseconds from 1 to
 * MAX_TIMEOUT_MS. AbortSignal.timeout throws a RangeError for a fraction (2009.9999999999998, as `2.01 * 1000`
 * computes) or a value above 2^32-1, which sendBuilt reported as a network error: every request AUTH_UNAVAILABLE,
 * an outage that was the configuration; and between 2^31 and 2^32-1 it fires after 1 ms instead. Until 2026-12-07 the
 * verifier checked only "finite and above 0" and ServiceTokenSource and AuthClient nothing (an outside review).
 * A TypeError, as the verifier's other configuration errors are.
 */
export function checkTimeoutMs(timeoutMs: number | undefined): void {
  if (timeoutMs === undefined) return;
  if (!(Number.isInteger(timeoutMs) && timeoutMs >= 1 && timeoutMs <= MAX_TIMEOUT_MS)) {
    throw new TypeError(`timeoutMs: a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS} (round a computed value)`);
  }
}

/**
 * One HTTP request with a deadline; a network error or timeout becomes AUTH_UNAVAILABLE (503). A request that
 * cannot be built is VALIDATION_ERROR (400) before anything is sent (see assertBuildable).
 */
export function send(fetchFn: FetchLike, url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  assertBuildable(url, init);
  return sendBuilt(fetchFn, url, init, timeoutMs);
}

/**
 * `send` for a request its caller has already passed through assertBuildable (AuthClient, before its breaker).
 *
 * Redirects are not followed: fetch would send a 307/308's request body again to wherever `Location` points, another
 * origin included (it drops only the Authorization header), and these bodies carry client secrets, passwords,
 * refresh tokens and the tokens being introspected. Anything answering for auth-service's URL (a misconfigured
 * ingress, a proxy on a hostile network) could collect them (a security review, 2026-12-05). A 3xx answer is
 * UNEXPECTED_RESPONSE, not retried: configure the URL it points to.
 */
export async function sendBuilt(fetchFn: FetchLike, url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  let response: Response;
  try {
    response = await fetchFn(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    if (neverSent(error)) throw unavailable('network error (no connection)');
    const why = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'network error';
    throw answerLost(why);
  }
  // An opaque redirect (status 0) is what a browser's fetch gives for one with redirect: 'manual'.
  if ((response.status >= 300 && response.status < 400) || response.type === 'opaqueredirect') {
    await response.body?.cancel().catch(() => undefined);
    throw new AuthError(
      'UNEXPECTED_RESPONSE',
      response.status,
      `auth-service answered a redirect (${response.status}) and the SDK does not follow redirects (the request would be sent again where it points): configure the URL it points to`,
    );
  }
  return response;
}

/** Failures to connect (Node's fetch: a TypeError whose `cause` is the system error): not a byte was sent. */
const NO_CONNECTION = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/** The request certainly never left (see NO_CONNECTION); anything else may have reached the service (answerLost). */
function neverSent(error: unknown): boolean {
  const cause = error instanceof Error ? (error as { cause?: unknown }).cause : undefined;
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  return typeof code === 'string' && NO_CONNECTION.has(code);
}

/**
 * Throws VALIDATION_ERROR when fetch could not build this request: a header value with a line break, a NUL or a
 * character above U+00FF, a URL that does not parse, a body on a GET. fetch reports those as a TypeError, as it
 * does a failure to connect ("fetch failed"), so telling them apart after the fact would mean reading messages;
 * instead the request is built here first with the same constructor fetch uses (WHATWG Request), and nothing is
 * sent. Such an error is the caller's input, not the network: never retried, never counted by a circuit breaker,
 * never AUTH_UNAVAILABLE. The TypeError's own message is dropped: it quotes the value (which may be a token).
 */
export function assertBuildable(url: string, init: RequestInit): void {
  try {
    void new Request(url, init);
  } catch {
    throw notSent('a header value, the URL or the body cannot go into an HTTP request');
  }
}

/** The most bytes of an answer's body the SDK reads (1 MiB; auth-service's answers are a few KB): see readJson. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The body as JSON, or undefined when it is not JSON (a proxy's HTML error page). A body cut off while it
 * is read (connection reset, abort) is the service being unreachable, not an unexpected answer: it throws
 * AUTH_UNAVAILABLE, so callers retry and fall back to a cached token as for any transport failure.
 *
 * At most `limitBytes` are read (MAX_BODY_BYTES by default): a longer body (by its Content-Length, or counted while
 * it streams) is cancelled there, and is not the endpoint's answer, as a body that is not JSON is not:
 * UNEXPECTED_RESPONSE, or AUTH_UNAVAILABLE when the status is a 5xx (as `unexpected` says; a proxy's error page).
 * The verifier's own reads (the JWKS, introspection) turn it into AUTH_UNAVAILABLE, as they do a redirect. Until
 * 2026-12-07 the whole body was read, however long: a broken or hostile upstream could exhaust the memory of every
 * resource server (an outside review).
 */
export async function readJson(response: Response, limitBytes = MAX_BODY_BYTES): Promise<unknown> {
  const text = await readText(response, limitBytes);
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

async function readText(response: Response, limitBytes: number): Promise<string> {
  const body = response.body;
  if (body === null) return '';
  if (Number(response.headers.get('content-length')) > limitBytes) {
    await body.cancel().catch(() => undefined);
    throw tooLarge(response, limitBytes);
  }
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const read = () =>
    reader.read().catch(() => {
      throw answerLost('the answer was cut off while it was read');
    });
  for (let chunk = await read(); !chunk.done; chunk = await read()) {
    size += chunk.value.byteLength;
    if (size > limitBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(response, limitBytes);
    }
    chunks.push(chunk.value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

function tooLarge(response: Response, limitBytes: number): AuthError {
  const why = `an answer longer than ${limitBytes} bytes, not read`;
  if (response.status >= 500) return unavailable(`${why} (${response.status})`, { upstream_status: response.status });
  return new AuthError('UNEXPECTED_RESPONSE', response.status, `unexpected answer ${response.status}: ${why}`);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** HTTP Basic client authentication (RFC 6749 §2.3.1): id and secret form-urlencoded, then base64. */
export function basicAuth(clientId: string, clientSecret: string): string {
  const encode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

/** A 5xx answer (with its Retry-After, if any) or a body that is not the expected shape, as an AuthError. */
export function unexpected(response: Response, what: string, now = Date.now()): AuthError {
  if (response.status >= 500) {
    const wait = retryAfterSeconds(response.headers.get('retry-after'), now) ?? undefined;
    return unavailable(`${what} answered ${response.status}`, { upstream_status: response.status }, wait);
  }
  return new AuthError('UNEXPECTED_RESPONSE', response.status, `${what}: unexpected answer ${response.status}`);
}

/** RFC 9110 §10.2.3 Retry-After: delay-seconds or an HTTP-date; null when absent, unreadable or not ahead. */
export function retryAfterSeconds(value: string | null, now: number): number | null {
  if (value === null || value.trim() === '') return null;
  const seconds = /^\d+$/.test(value.trim()) ? Number(value.trim()) : (Date.parse(value) - now) / 1000;
  return Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) : null;
}
