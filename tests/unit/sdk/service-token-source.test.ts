import { AuthError, ServiceTokenSource, type FetchLike } from '../../../src/sdk';
import { OAuthPeer } from '../../support/oauth-peer';
import { countingFetch, FakeClock, recordingSleep } from './support';

/**
 * What a token endpoint target offers these tests. Today: the local RFC 6749 peer. After the /oauth/token
 * branch is merged, add the real service here (startSecureApp + a client made with create-client) so the
 * target-agnostic block runs against it as well; the failure-injection block needs the peer's failNext.
 */
interface TokenTarget {
  tokenUrl: string;
  client: { id: string; secret: string; scopes: string[] };
  ttlSeconds: number;
  stop(): Promise<void>;
}

const TARGETS: Array<[string, () => Promise<TokenTarget>]> = [
  [
    'local RFC 6749 peer',
    async () => {
      const peer = await new OAuthPeer().start();
      return { tokenUrl: peer.tokenUrl, client: peer.clients[0]!, ttlSeconds: peer.tokenTtlSeconds, stop: () => peer.stop() };
    },
  ],
];

describe.each(TARGETS)('ServiceTokenSource against the %s', (_name, startTarget) => {
  let target: TokenTarget;
  beforeAll(async () => (target = await startTarget()));
  afterAll(async () => target.stop());

  const source = (overrides: Partial<ConstructorParameters<typeof ServiceTokenSource>[0]> = {}) => {
    const clock = new FakeClock();
    const fetch = countingFetch();
    const tokens = new ServiceTokenSource({ tokenUrl: target.tokenUrl, clientId: target.client.id, clientSecret: target.client.secret, fetch, now: clock.now, ...overrides });
    return { tokens, clock, fetch };
  };

  it('returns a bearer token that is a JWT for the client', async () => {
    const { tokens } = source();
    const token = await tokens.getToken();
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(payload).toMatchObject({ sub: target.client.id, token_type: 'service' });
  });

  it('50 concurrent callers share one request, round after round as the token nears its expiry', async () => {
    const { tokens, clock, fetch } = source();
    for (let round = 1; round <= 5; round += 1) {
      const got = await Promise.all(Array.from({ length: 50 }, () => tokens.getToken()));
      expect(new Set(got).size).toBe(1);
      expect(fetch.total()).toBe(round);
      clock.advance(target.ttlSeconds - 60); // exactly 60 s before expiry: renewed on the next call
    }
  });

  it('reuses the token until 60 s before it expires', async () => {
    const { tokens, clock, fetch } = source();
    const first = await tokens.getToken();
    clock.advance(target.ttlSeconds - 61);
    expect(await tokens.getToken()).toBe(first);
    expect(fetch.total()).toBe(1);
    clock.advance(1);
    await tokens.getToken();
    expect(fetch.total()).toBe(2);
  });

  it.each(['basic', 'body'] as const)('authenticates by %s', async (authMethod) => {
    const { tokens } = source({ authMethod });
    await expect(tokens.getToken()).resolves.toEqual(expect.any(String));
  });

  it('a wrong secret is INVALID_CLIENT 401, asked once, not retried, not cached', async () => {
    const { sleep, waits } = recordingSleep();
    const { tokens, fetch } = source({ clientSecret: 'wrong', sleep });
    await expect(tokens.getToken()).rejects.toMatchObject({ name: 'AuthError', code: 'INVALID_CLIENT', status: 401 });
    await expect(tokens.getToken()).rejects.toBeInstanceOf(AuthError);
    expect(fetch.total()).toBe(2);
    expect(waits).toEqual([]);
  });

  it('a scope the client may not have is INVALID_SCOPE 400, not retried', async () => {
    const { sleep, waits } = recordingSleep();
    const { tokens, fetch } = source({ scope: 'admin:everything', sleep });
    await expect(tokens.getToken()).rejects.toMatchObject({ code: 'INVALID_SCOPE', status: 400 });
    expect(fetch.total()).toBe(1);
    expect(waits).toEqual([]);
  });
});

describe('ServiceTokenSource when the token endpoint fails (local peer failing on demand)', () => {
  let peer: OAuthPeer;
  beforeAll(async () => (peer = await new OAuthPeer().start()));
  afterAll(async () => peer.stop());

  const source = (sleep: (ms: number) => Promise<void>, extra: Partial<ConstructorParameters<typeof ServiceTokenSource>[0]> = {}) =>
    new ServiceTokenSource({ tokenUrl: peer.tokenUrl, clientId: 'orders', clientSecret: peer.clients[0]!.secret, sleep, random: () => 0.999, ...extra });

  it('retries 5xx and reset connections with capped exponential backoff, then succeeds', async () => {
    const { sleep, waits } = recordingSleep();
    const before = peer.requests('/oauth/token');
    peer.failNext('/oauth/token', 503, 'reset', 500);
    await expect(source(sleep, { retries: 5, baseDelayMs: 100, maxDelayMs: 300 }).getToken()).resolves.toEqual(expect.any(String));
    expect(peer.requests('/oauth/token') - before).toBe(4);
    expect(waits).toEqual([99, 199, 299]); // 100, 200, 400 capped at 300; jitter 0.999 of each
  });

  it('jitter spreads the waits between 0 and the cap', async () => {
    const { sleep, waits } = recordingSleep();
    peer.failNext('/oauth/token', 503, 503);
    const randoms = [0, 0.5];
    await source(sleep, { random: () => randoms.shift() ?? 0, baseDelayMs: 100 }).getToken();
    expect(waits).toEqual([0, 100]);
  });

  it('gives up after the retries with AUTH_UNAVAILABLE, and concurrent callers share the one failing attempt', async () => {
    const { sleep, waits } = recordingSleep();
    const before = peer.requests('/oauth/token');
    peer.failNext('/oauth/token', 503, 503, 503);
    const tokens = source(sleep, { retries: 2 });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => tokens.getToken()));
    expect(results.every((r) => r.status === 'rejected' && (r.reason as AuthError).code === 'AUTH_UNAVAILABLE')).toBe(true);
    expect(peer.requests('/oauth/token') - before).toBe(3);
    expect(waits).toHaveLength(2);
    // The failure is not cached: the next call asks again.
    await expect(tokens.getToken()).resolves.toEqual(expect.any(String));
  });

  it('a 4xx between 5xx ends the retries at once', async () => {
    const { sleep, waits } = recordingSleep();
    const before = peer.requests('/oauth/token');
    peer.failNext('/oauth/token', 502, 429);
    await expect(source(sleep, { retries: 5 }).getToken()).rejects.toMatchObject({ status: 429 });
    expect(peer.requests('/oauth/token') - before).toBe(2);
    expect(waits).toHaveLength(1);
  });

  it('sends RFC 6749 §2.3.1 Basic credentials (form-urlencoded id and secret) and the scope', async () => {
    const { sleep } = recordingSleep();
    await source(sleep, { scope: 'orders:read' }).getToken();
    const { headers, form } = peer.last.get('/oauth/token')!;
    const encoded = (v: string) => new URLSearchParams({ v }).toString().slice(2);
    expect(headers.authorization).toBe(`Basic ${Buffer.from(`orders:${encoded(peer.clients[0]!.secret)}`).toString('base64')}`);
    expect(headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(form)).toEqual({ grant_type: 'client_credentials', scope: 'orders:read' });
  });

  it('a token URL fetch cannot use is VALIDATION_ERROR at once: nothing sent, not retried, not AUTH_UNAVAILABLE', async () => {
    const { sleep, waits } = recordingSleep();
    const fetch = countingFetch();
    const tokens = new ServiceTokenSource({ tokenUrl: 'http://exa mple.com/oauth/token', clientId: 'orders', clientSecret: 'x', sleep, fetch });
    await expect(tokens.getToken()).rejects.toMatchObject({ code: 'VALIDATION_ERROR', status: 400 });
    expect(fetch.total()).toBe(0);
    expect(waits).toEqual([]);
  });

  it('a closed port is a network error: retried, then AUTH_UNAVAILABLE', async () => {
    const gone = await new OAuthPeer().start();
    const url = gone.tokenUrl;
    await gone.stop();
    const { sleep, waits } = recordingSleep();
    const tokens = new ServiceTokenSource({ tokenUrl: url, clientId: 'orders', clientSecret: 'x', sleep, retries: 3 });
    await expect(tokens.getToken()).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE', status: 503 });
    expect(waits).toHaveLength(3);
  });
});

describe('ServiceTokenSource with short-lived tokens (a local peer answering a small expires_in)', () => {
  let peer: OAuthPeer;
  beforeAll(async () => (peer = await new OAuthPeer().start()));
  afterAll(async () => peer.stop());

  // [expires_in, refreshBeforeSeconds option, seconds after which the token is renewed]
  it.each([
    [60, undefined, 30], // the default 60 s margin would renew at once: half the lifetime instead
    [10, undefined, 5],
    [60, 5, 55], // a margin under half the lifetime is kept
    [900, undefined, 840],
  ])('expires_in %p (refreshBeforeSeconds %p): sequential calls reuse the token until %p s, then one new request', async (ttl, refreshBeforeSeconds, renewAfter) => {
    peer.tokenTtlSeconds = ttl;
    const clock = new FakeClock();
    const fetch = countingFetch();
    const tokens = new ServiceTokenSource({ tokenUrl: peer.tokenUrl, clientId: 'orders', clientSecret: peer.clients[0]!.secret, fetch, now: clock.now, refreshBeforeSeconds });
    const start = clock.ms;
    const first = await tokens.getToken();
    for (let i = 1; i < 30; i += 1) {
      clock.ms = start + Math.floor((i * renewAfter * 1000) / 30);
      expect(await tokens.getToken()).toBe(first);
    }
    clock.ms = start + renewAfter * 1000 - 1; // just before the renewal point
    expect(await tokens.getToken()).toBe(first);
    expect(fetch.total()).toBe(1);
    clock.ms = start + renewAfter * 1000; // the renewal point
    expect(await tokens.getToken()).not.toBe(first);
    expect(fetch.total()).toBe(2);
    // The new token is reused in its turn.
    for (let i = 0; i < 10; i += 1) await tokens.getToken();
    expect(fetch.total()).toBe(2);
  });
});

describe('ServiceTokenSource while renewal fails and the cached token is still valid (an injected token endpoint)', () => {
  type Mode = 'ok' | '503' | 'down' | '401' | '429' | '429-date' | '307' | 'html';
  /** The token endpoint as a fetch: 'ok' issues `tok<n>` for 900 s (n counts requests); the others fail. */
  const setup = (expiresIn = 900) => {
    const state = { mode: 'ok' as Mode, calls: 0 };
    const fetch: FetchLike = async () => {
      state.calls += 1;
      if (state.mode === 'down') throw new TypeError('fetch failed');
      if (state.mode === '503') return new Response('{}', { status: 503, headers: { 'retry-after': '7' } });
      if (state.mode === '307') return new Response(null, { status: 307, headers: { location: 'https://elsewhere.test/oauth/token' } });
      if (state.mode === 'html') return new Response('<html>maintenance</html>', { status: 200, headers: { 'content-type': 'text/html' } });
      if (state.mode === '401') return new Response(JSON.stringify({ error: 'invalid_client' }), { status: 401 });
      if (state.mode === '429') return new Response(JSON.stringify({ error: 'slow_down' }), { status: 429, headers: { 'retry-after': '30' } });
      if (state.mode === '429-date') {
        // Retry-After as an HTTP-date (RFC 9110): 20 s after the injected clock's now.
        return new Response(JSON.stringify({ error: 'slow_down' }), { status: 429, headers: { 'retry-after': new Date(clock.ms + 20_000).toUTCString() } });
      }
      return new Response(JSON.stringify({ access_token: `tok${state.calls}`, token_type: 'Bearer', expires_in: expiresIn }), { status: 200 });
    };
    const clock = new FakeClock();
    const start = clock.ms;
    const { sleep, waits } = recordingSleep();
    const tokens = new ServiceTokenSource({ tokenUrl: 'http://auth.test/oauth/token', clientId: 'orders', clientSecret: 's', fetch, sleep, now: clock.now, retries: 3 });
    const at = (seconds: number) => (clock.ms = start + seconds * 1000);
    return { state, tokens, at, waits };
  };
  /** Lets a background renewal (injected fetch and sleep: no real I/O) run to its end. */
  const settle = async () => {
    for (let i = 0; i < 20; i += 1) await new Promise((resolve) => setImmediate(resolve));
  };
  const burst = (tokens: ServiceTokenSource, n = 20) => Promise.all(Array.from({ length: n }, () => tokens.getToken()));

  it.each(['503', 'down'] as const)('endpoint %s: the old token is served until 5 s before it expires, one attempt sequence per 5 s pause, then AUTH_UNAVAILABLE', async (mode) => {
    const { state, tokens, at } = setup();
    expect(await tokens.getToken()).toBe('tok1');
    state.mode = mode;
    at(841); // past the renewal point (840 s), the token valid 59 s more
    expect(new Set(await burst(tokens))).toEqual(new Set(['tok1'])); // the callers shared one failed sequence
    expect(state.calls).toBe(1 + 4);
    at(845.999); // within the pause: no request at all
    expect(new Set(await burst(tokens, 50))).toEqual(new Set(['tok1']));
    await settle();
    expect(state.calls).toBe(5);
    for (let second = 846; second <= 891; second += 5) {
      at(second); // each pause over: the callers are served at once, one sequence runs behind them
      expect(new Set(await burst(tokens))).toEqual(new Set(['tok1']));
      await settle();
      at(Math.min(second + 4.999, 894.999));
      expect(new Set(await burst(tokens))).toEqual(new Set(['tok1']));
      await settle();
    }
    expect(state.calls).toBe(5 + 10 * 4);
    at(895); // 5 s before the expiry: no longer served, the failure is the caller's
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => tokens.getToken()));
    expect(results.every((r) => r.status === 'rejected' && (r.reason as AuthError).code === 'AUTH_UNAVAILABLE')).toBe(true);
    // A 503's Retry-After reaches the caller's error (none when the endpoint could not be reached at all).
    expect(new Set(results.map((r) => (r.status === 'rejected' ? (r.reason as AuthError).retryAfterSeconds : null)))).toEqual(new Set([mode === '503' ? 7 : undefined]));
    expect(state.calls).toBe(45 + 4);
    state.mode = 'ok';
    if (mode === '503') {
      // Its Retry-After (7 s) is a pause: until it is over the 503 is repeated without a request (since stop 65).
      await expect(tokens.getToken()).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE', retryAfterSeconds: 7 });
      expect(state.calls).toBe(49);
      at(902);
    }
    expect(await tokens.getToken()).toBe('tok50');
  });

  it('when the endpoint is back, the background renewal replaces the token', async () => {
    const { state, tokens, at } = setup();
    await tokens.getToken();
    state.mode = '503';
    at(841);
    expect(await tokens.getToken()).toBe('tok1');
    state.mode = 'ok';
    at(846);
    expect(await tokens.getToken()).toBe('tok1');
    await settle();
    expect(await tokens.getToken()).toBe('tok6');
    at(846 + 839);
    expect(await tokens.getToken()).toBe('tok6');
    expect(state.calls).toBe(6);
  });

  it('a short-lived token (60 s, renewed after 30 s) is served until 55 s', async () => {
    const { state, tokens, at } = setup(60);
    await tokens.getToken();
    state.mode = 'down';
    at(30);
    expect(await tokens.getToken()).toBe('tok1');
    at(54.999);
    expect(await tokens.getToken()).toBe('tok1');
    at(55);
    await expect(tokens.getToken()).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE' });
  });

  /**
   * The endpoint's per-client quota answered 429 with Retry-After (outside review, 2026-12-02: the renewal's 429 was
   * final like any 4xx, so the still-valid token was not served, and every later call sent a new request, keeping
   * the quota tripped). The old token is served while usable, the next attempt waits Retry-After; afterwards the
   * 429 is repeated to callers without a request until its pause is over.
   */
  it('a 429 while renewing: the old token is served, the next attempt waits Retry-After; then the refusal is repeated without requests', async () => {
    const { state, tokens, at, waits } = setup();
    expect(await tokens.getToken()).toBe('tok1');
    state.mode = '429';
    at(841);
    expect(new Set(await burst(tokens))).toEqual(new Set(['tok1']));
    expect(state.calls).toBe(2); // one request for the burst, not retried
    at(870.999); // within Retry-After (30 s): served, nothing asked
    for (let i = 0; i < 100; i += 1) expect(await tokens.getToken()).toBe('tok1');
    await settle();
    expect(state.calls).toBe(2);
    at(871); // the pause over: served at once, one attempt behind the callers
    expect(new Set(await burst(tokens))).toEqual(new Set(['tok1']));
    await settle();
    expect(state.calls).toBe(3);
    at(895); // no longer usable, and the last 429's pause (until 901) holds: refused without a request
    await expect(tokens.getToken()).rejects.toMatchObject({ code: 'SLOW_DOWN', status: 429, details: { retry_after_seconds: 30 }, retryAfterSeconds: 30 });
    for (let i = 0; i < 100; i += 1) {
      at(895 + (i * 5.99) / 100);
      await expect(tokens.getToken()).rejects.toMatchObject({ code: 'SLOW_DOWN' });
    }
    expect(state.calls).toBe(3);
    at(901); // the pause over: asked again, refused again, and repeated without a request for 30 s more
    await expect(tokens.getToken()).rejects.toMatchObject({ code: 'SLOW_DOWN' });
    expect(state.calls).toBe(4);
    for (let i = 0; i < 100; i += 1) {
      at(901 + (i * 29.99) / 100);
      await expect(tokens.getToken()).rejects.toMatchObject({ code: 'SLOW_DOWN' });
    }
    expect(state.calls).toBe(4);
    state.mode = 'ok';
    at(931);
    expect(await tokens.getToken()).toBe('tok5');
    expect(waits).toEqual([]); // a 429 is never retried in a loop
  });

  it('a Retry-After given as an HTTP-date is read as the pause', async () => {
    const { state, tokens, at } = setup();
    state.mode = '429-date';
    at(0);
    await expect(tokens.getToken()).rejects.toMatchObject({ code: 'SLOW_DOWN', details: { retry_after_seconds: 20 } });
    at(19.9);
    await expect(tokens.getToken()).rejects.toMatchObject({ code: 'SLOW_DOWN' });
    expect(state.calls).toBe(1);
    state.mode = 'ok';
    at(20);
    expect(await tokens.getToken()).toBe('tok2');
  });

  /**
   * An answer that is not the token endpoint's (a redirect the SDK does not follow, a proxy's page with 200) says
   * nothing about the credentials: until 2026-12-05 it was final like a 4xx, and every caller failed while the cached
   * token had minutes left. Now the old token is served while usable, one attempt per RENEWAL_PAUSE_MS, no retry loop.
   */
  it.each(['307', 'html'] as const)('an answer that is not the endpoint\'s (%s) while renewing: the old token is served, one attempt per 5 s', async (mode) => {
    const { state, tokens, at, waits } = setup();
    expect(await tokens.getToken()).toBe('tok1');
    state.mode = mode;
    at(841);
    expect(new Set(await burst(tokens))).toEqual(new Set(['tok1']));
    expect(state.calls).toBe(2); // one request for the burst, not retried
    at(845.999);
    expect(new Set(await burst(tokens))).toEqual(new Set(['tok1']));
    await settle();
    expect(state.calls).toBe(2);
    at(846);
    expect(await tokens.getToken()).toBe('tok1');
    await settle();
    expect(state.calls).toBe(3);
    at(895); // no longer usable: the caller is told
    await expect(tokens.getToken()).rejects.toMatchObject({ code: 'UNEXPECTED_RESPONSE' });
    state.mode = 'ok';
    at(896);
    expect(await tokens.getToken()).toBe('tok5');
    expect(waits).toEqual([]);
  });

  it('a 4xx is final: not answered with the old token', async () => {
    const { state, tokens, at, waits } = setup();
    await tokens.getToken();
    state.mode = '401';
    at(841);
    await expect(tokens.getToken()).rejects.toMatchObject({ code: 'INVALID_CLIENT', status: 401 });
    // Refused in the background (after a 5xx) it is final too: the next caller asks and is told.
    state.mode = '503';
    expect(await tokens.getToken()).toBe('tok1');
    state.mode = '401';
    at(846);
    expect(await tokens.getToken()).toBe('tok1');
    await settle();
    await expect(tokens.getToken()).rejects.toMatchObject({ code: 'INVALID_CLIENT' });
    expect(waits).toHaveLength(3); // only the 5xx sequence waited between attempts
  });
});
