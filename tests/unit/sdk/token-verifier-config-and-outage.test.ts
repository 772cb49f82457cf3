/**
 * Stop 51 (an outside review): createTokenVerifier refuses an issuer / audience jose would skip; a token naming an
 * unknown kid while the JWKS refetch fails is AUTH_UNAVAILABLE (503), not INVALID_TOKEN (401), and the unknown-kid
 * interval no longer holds a rotated key back for 30 s after such a failure (it backs off 1 s, doubling to 30 s);
 * a stale key set is refreshed in the background (stale-while-revalidate), never while a verify waits.
 */
import { AuthError, createTokenVerifier, type FetchLike, type TokenVerifierOptions } from '../../../src/sdk';
import { OAuthPeer, PEER_AUDIENCE, PEER_ISSUER } from '../../support/oauth-peer';
import { FakeClock } from './support';

type JwksMode = 'up' | 503 | 'reset' | 'hang';

/** The real fetch, except for the JWKS: answered by the peer, a 503, a network error, or no answer (until the deadline). */
function controlledFetch(): FetchLike & { mode: JwksMode; jwksRequests: number } {
  const fn = (async (input: string | URL, init?: RequestInit) => {
    if (new URL(input).pathname === '/.well-known/jwks.json') {
      fn.jwksRequests += 1;
      if (fn.mode === 503) return new Response(JSON.stringify({ error: 'temporarily_unavailable' }), { status: 503, headers: { 'content-type': 'application/json' } });
      if (fn.mode === 'reset') throw new TypeError('fetch failed');
      if (fn.mode === 'hang') {
        return new Promise<Response>((_resolve, reject) => {
          const signal = init?.signal;
          signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
        });
      }
    }
    return fetch(input, init);
  }) as FetchLike & { mode: JwksMode; jwksRequests: number };
  fn.mode = 'up';
  fn.jwksRequests = 0;
  return fn;
}

const codeOf = (promise: Promise<unknown>): Promise<string> => promise.then(() => 'ok', (e: unknown) => (e instanceof AuthError ? e.code : `not an AuthError: ${String(e)}`));

describe('createTokenVerifier: issuer and audience must be configured (stop 51)', () => {
  const base = { issuer: PEER_ISSUER, audience: PEER_AUDIENCE, jwksUrl: 'http://127.0.0.1:9/.well-known/jwks.json' };
  const unset = (name: string): string => process.env[`SDK_FIX_SURELY_UNSET_${name}`]!;

  it.each([
    ['issuer undefined (an unset env variable)', { issuer: unset('ISSUER') }],
    ['issuer empty', { issuer: '' }],
    ['issuer not a string', { issuer: ['https://auth.peer.test'] }],
    ['audience undefined (an unset env variable)', { audience: unset('AUDIENCE') }],
    ['audience empty', { audience: '' }],
    ['audience an empty array', { audience: [] }],
    ['audience an array holding an empty string', { audience: ['peer-api', ''] }],
    ['audience an array holding undefined', { audience: ['peer-api', unset('AUDIENCE')] }],
    ['audience a number', { audience: 42 }],
  ])('%s: TypeError at creation', (_what, override) => {
    expect(() => createTokenVerifier({ ...base, ...(override as Partial<TokenVerifierOptions>) })).toThrow(TypeError);
  });

  // A review of stop 51: a jwksUrl or timeoutMs no request can be made with answered every verify AUTH_UNAVAILABLE.
  it.each([
    ['jwksUrl undefined (an unset env variable)', { jwksUrl: unset('JWKS_URL') }],
    ['jwksUrl relative', { jwksUrl: '/.well-known/jwks.json' }],
    ['jwksUrl empty', { jwksUrl: '' }],
    ['jwksUrl not http(s)', { jwksUrl: 'file:///etc/jwks.json' }],
    ['timeoutMs 0', { timeoutMs: 0 }],
    ['timeoutMs negative', { timeoutMs: -1 }],
    ['timeoutMs NaN', { timeoutMs: Number.NaN }],
  ])('%s: TypeError at creation', (_what, override) => {
    expect(() => createTokenVerifier({ ...base, ...(override as Partial<TokenVerifierOptions>) })).toThrow(TypeError);
  });

  it('a non-empty issuer and a non-empty audience (string or array) are taken', () => {
    expect(() => createTokenVerifier(base)).not.toThrow();
    expect(() => createTokenVerifier({ ...base, audience: ['peer-api', 'other-api'] })).not.toThrow();
  });

  describe('against tokens of a foreign issuer and audience', () => {
    let peer: OAuthPeer;
    beforeAll(async () => (peer = await new OAuthPeer().start()));
    afterAll(async () => peer.stop());

    it('no verifier is ever made that accepts them (jose would skip the check it is given undefined for)', async () => {
      const foreign = await peer.userToken({ claims: { iss: 'https://evil.example', aud: 'another-api' } });
      // Unset issuer (audience matching the token), unset audience (issuer matching it): jose would accept the token.
      for (const options of [
        { issuer: unset('ISSUER'), audience: 'another-api' },
        { issuer: 'https://evil.example', audience: unset('AUDIENCE') },
      ]) {
        let outcome: string;
        try {
          outcome = await codeOf(createTokenVerifier({ ...options, jwksUrl: peer.jwksUrl }).verify(foreign));
        } catch (error) {
          outcome = error instanceof TypeError ? 'refused at creation' : String(error);
        }
        expect(outcome).toBe('refused at creation');
      }
    });
  });
});

describe('createTokenVerifier: JWKS refetch failures and stale keys (stop 51)', () => {
  let peer: OAuthPeer;
  beforeAll(async () => (peer = await new OAuthPeer().start()));
  afterAll(async () => peer.stop());

  const setup = (timeoutMs = 2000) => {
    const clock = new FakeClock();
    const fetch = controlledFetch();
    const v = createTokenVerifier({ issuer: PEER_ISSUER, audience: PEER_AUDIENCE, jwksUrl: peer.jwksUrl, fetch, now: clock.now, timeoutMs });
    return { v, clock, fetch };
  };

  it.each([
    ['a 503', 503 as JwksMode],
    ['a network error', 'reset' as JwksMode],
    ['a timeout', 'hang' as JwksMode],
  ])('an unknown kid whose refetch fails with %s is AUTH_UNAVAILABLE; the rotated key is had 1 s after the JWKS is back, not 30 s', async (_what, mode) => {
    const { v, clock, fetch } = setup(300);
    const good = await peer.userToken();
    await v.verify(good); // keys loaded (fetch 1)
    await peer.rotate();
    const rotated = await peer.userToken();
    clock.advance(30);
    fetch.mode = mode;
    // The refetch this verify waited for failed: its key could not be looked up; the token is not known bad.
    await expect(v.verify(rotated)).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE', status: 503 });
    expect(fetch.jwksRequests).toBe(2);
    // The last refetch failed and the next is not due: AUTH_UNAVAILABLE without a request (a burst too).
    const burst = await Promise.all(Array.from({ length: 20 }, () => codeOf(v.verify(rotated))));
    expect(new Set(burst)).toEqual(new Set(['AUTH_UNAVAILABLE']));
    expect(fetch.jwksRequests).toBe(2);
    // A token of a known kid still verifies against the keys kept.
    await expect(v.verify(good)).resolves.toMatchObject({ tokenType: 'user' });
    // The JWKS is back: 1 s after the failed attempt (the backoff), not 30 s, the rotated key is fetched and serves.
    fetch.mode = 'up';
    clock.advance(1);
    await expect(v.verify(rotated)).resolves.toMatchObject({ tokenType: 'user' });
    expect(fetch.jwksRequests).toBe(3);
  });

  it('keys known, JWKS down: a flood of forged kids backs off 1, 2, 4, 8, 16, 30, 30 s (AUTH_UNAVAILABLE), known kids keep verifying', async () => {
    const { v, clock, fetch } = setup();
    const good = await peer.userToken();
    await v.verify(good);
    fetch.mode = 503;
    clock.advance(30);
    let n = 0;
    const forged = () => peer.userToken({ header: { kid: `forged-${(n += 1)}` } });
    await expect(v.verify(await forged())).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE' });
    expect(fetch.jwksRequests).toBe(2);
    for (const [i, wait] of [1, 2, 4, 8, 16, 30, 30].entries()) {
      clock.advance(wait - 0.5);
      for (let k = 0; k < 10; k += 1) expect(await codeOf(v.verify(await forged()))).toBe('AUTH_UNAVAILABLE');
      await expect(v.verify(good)).resolves.toMatchObject({ tokenType: 'user' });
      expect(fetch.jwksRequests).toBe(i + 2);
      clock.advance(0.5);
      for (let k = 0; k < 10; k += 1) expect(await codeOf(v.verify(await forged()))).toBe('AUTH_UNAVAILABLE');
      expect(fetch.jwksRequests).toBe(i + 3);
    }
  });

  /**
   * A review of stop 51: the wait was counted from an attempt's start, so with a JWKS that hangs until the timeout
   * the 1, 2 and 4 s waits were due before each attempt ended: attempts ran back to back, each verify waiting a timeout.
   */
  it('the backoff counts from the end of a failed attempt: a JWKS that hangs 5 s is not asked again at once', async () => {
    const clock = new FakeClock();
    let jwksRequests = 0;
    const hanging = (async (input: string | URL, init?: RequestInit) => {
      if (new URL(input).pathname !== '/.well-known/jwks.json') return fetch(input, init);
      jwksRequests += 1;
      clock.advance(5); // the whole timeout went by
      throw new TypeError('fetch failed');
    }) as FetchLike;
    const v = createTokenVerifier({ issuer: PEER_ISSUER, audience: PEER_AUDIENCE, jwksUrl: peer.jwksUrl, fetch: hanging, now: clock.now });
    const token = await peer.userToken();
    await expect(v.verify(token)).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE' });
    expect(jwksRequests).toBe(1);
    // Right after the failed attempt ended: within the 1 s wait, answered without a request.
    await expect(v.verify(token)).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE' });
    expect(jwksRequests).toBe(1);
    clock.advance(1);
    await expect(v.verify(token)).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE' });
    expect(jwksRequests).toBe(2);
  });

  it('JWKS up: a flood of forged kids still costs at most one fetch per 30 s, each INVALID_TOKEN', async () => {
    const { v, clock, fetch } = setup();
    await v.verify(await peer.userToken());
    clock.advance(30);
    for (let round = 0; round < 3; round += 1) {
      const codes = await Promise.all(Array.from({ length: 30 }, async (_, i) => codeOf(v.verify(await peer.userToken({ header: { kid: `forged-${round}-${i}` } })))));
      expect(new Set(codes)).toEqual(new Set(['INVALID_TOKEN']));
      clock.advance(29.5);
      for (let i = 0; i < 10; i += 1) expect(await codeOf(v.verify(await peer.userToken({ header: { kid: `late-${round}-${i}` } })))).toBe('INVALID_TOKEN');
      expect(fetch.jwksRequests).toBe(round + 2);
      clock.advance(0.5);
    }
  });

  it('within 30 s of a successful fetch an unknown kid is INVALID_TOKEN without a request (the forged-kid protection), JWKS down or not', async () => {
    const { v, clock, fetch } = setup();
    await v.verify(await peer.userToken());
    fetch.mode = 503;
    clock.advance(10);
    await expect(v.verify(await peer.userToken({ header: { kid: 'nobody' } }))).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    expect(fetch.jwksRequests).toBe(1);
  });

  it('a stale key set with the JWKS hanging: a known kid is answered from the cached keys at once, the refetch runs in the background', async () => {
    const { v, clock, fetch } = setup(3000);
    const token = await peer.userToken();
    await v.verify(token);
    fetch.mode = 'hang';
    clock.advance(301);
    const started = Date.now();
    await expect(v.verify(token)).resolves.toMatchObject({ tokenType: 'user' });
    expect(Date.now() - started).toBeLessThan(2500); // not the 3 s deadline of the hanging refetch
    expect(fetch.jwksRequests).toBe(2); // the refresh was started
    // Concurrent verifies meanwhile neither wait nor start another fetch.
    const burst = await Promise.all(Array.from({ length: 20 }, () => v.verify(token)));
    expect(burst).toEqual(Array.from({ length: 20 }, () => expect.objectContaining({ tokenType: 'user' })));
    expect(Date.now() - started).toBeLessThan(2500);
    expect(fetch.jwksRequests).toBe(2);
  });

  it('a stale key set: the background refresh brings a rotated key, and its failure keeps the known keys', async () => {
    const { v, clock, fetch } = setup(300);
    const token = await peer.userToken();
    await v.verify(token);
    // A failed background refresh: the known kid is still answered, nothing thrown anywhere.
    fetch.mode = 503;
    clock.advance(301);
    await expect(v.verify(token)).resolves.toMatchObject({ tokenType: 'user' });
    expect(fetch.jwksRequests).toBe(2);
    await settle(); // the failed background fetch is over (the peer is not asked: all of it is in-process)
    // Back up: the next refresh (after the 1 s backoff) is in the background too; an unknown kid waits for it.
    fetch.mode = 'up';
    await peer.rotate();
    const rotated = await peer.userToken();
    clock.advance(1);
    await expect(v.verify(rotated)).resolves.toMatchObject({ tokenType: 'user' });
    expect(fetch.jwksRequests).toBe(3);
  });
});

/** Lets in-process work started without a waiter (a background refresh answered by controlledFetch) finish. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 50));
}
