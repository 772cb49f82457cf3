import { randomUUID } from 'node:crypto';
import { generateKeyPair, SignJWT } from 'jose';
import { AuthError, createTokenVerifier, type TokenVerifierOptions } from '../../../src/sdk';
import { OAuthPeer, PEER_AUDIENCE, PEER_ISSUER } from '../../support/oauth-peer';
import { countingFetch, FakeClock, JwksStub } from './support';

describe('createTokenVerifier offline (JWKS of a local peer)', () => {
  let peer: OAuthPeer;
  beforeAll(async () => (peer = await new OAuthPeer().start()));
  afterAll(async () => peer.stop());

  const verifier = (options: Partial<TokenVerifierOptions> = {}) => {
    const clock = new FakeClock();
    const fetch = countingFetch();
    const v = createTokenVerifier({ issuer: PEER_ISSUER, audience: PEER_AUDIENCE, jwksUrl: peer.jwksUrl, fetch, now: clock.now, ...options });
    return { v, clock, fetch };
  };
  const rejectsWith = async (promise: Promise<unknown>, code: string) => {
    const error = await promise.then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ code });
  };

  it('verifies a user token and names its subject, session and roles', async () => {
    const { v } = verifier();
    const sid = randomUUID();
    const result = await v.verify(await peer.userToken({ sub: 'u-1', sid, roles: ['user', 'admin'] }));
    expect(result).toMatchObject({ subject: 'u-1', sessionId: sid, tokenType: 'user', roles: ['user', 'admin'], scopes: [] });
    expect(result.claims).toMatchObject({ iss: PEER_ISSUER, aud: PEER_AUDIENCE });
  });

  it('no token is UNAUTHENTICATED; garbage is INVALID_TOKEN', async () => {
    const { v } = verifier();
    await rejectsWith(v.verify(undefined), 'UNAUTHENTICATED');
    await rejectsWith(v.verify(''), 'UNAUTHENTICATED');
    for (const garbage of ['x', 'a.b.c', 'eyJ.eyJ.', 'Bearer abc', 'a'.repeat(9000)]) await rejectsWith(v.verify(garbage), 'INVALID_TOKEN');
  });

  it.each([
    ['a wrong issuer', { claims: { iss: 'https://evil.example' } }],
    ['a wrong audience', { claims: { aud: 'another-api' } }],
    ['typ JWT instead of at+jwt', { header: { typ: 'JWT' } }],
    ['an unknown kid', { header: { kid: 'nobody' } }],
    ['a jku header', { header: { jku: 'https://evil.example/jwks' } }],
    ['no session id', { claims: { sid: 42 } }],
    ['an unknown token_type', { claims: { token_type: 'robot' } }],
  ])('rejects %s as INVALID_TOKEN', async (_what, overrides) => {
    const { v } = verifier();
    await rejectsWith(v.verify(await peer.userToken(overrides)), 'INVALID_TOKEN');
  });

  it('rejects a tampered payload and a foreign key with the right kid', async () => {
    const { v } = verifier();
    const [h, p, s] = (await peer.userToken({ roles: ['user'] })).split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString('base64url');
    await rejectsWith(v.verify(`${h}.${forged}.${s}`), 'INVALID_TOKEN');
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const kid = JSON.parse(Buffer.from(h!, 'base64url').toString()).kid as string;
    const foreign = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid }).sign(privateKey);
    await rejectsWith(v.verify(foreign), 'INVALID_TOKEN');
  });

  it('rejects alg none and HS256 (the public key as an HMAC secret)', async () => {
    const { v } = verifier();
    const [h, p] = (await peer.userToken()).split('.');
    const header = JSON.parse(Buffer.from(h!, 'base64url').toString()) as Record<string, unknown>;
    const none = `${Buffer.from(JSON.stringify({ ...header, alg: 'none' })).toString('base64url')}.${p}.`;
    await rejectsWith(v.verify(none), 'INVALID_TOKEN');
    const hs = await new SignJWT(JSON.parse(Buffer.from(p!, 'base64url').toString()))
      .setProtectedHeader({ ...header, alg: 'HS256' } as { alg: string })
      .sign(new TextEncoder().encode('x'.repeat(32)));
    await rejectsWith(v.verify(hs), 'INVALID_TOKEN');
  });

  it('accepts only the configured algorithms, and refuses to be configured with none, HS* or more than 60 s skew', async () => {
    const { v } = verifier({ algorithms: ['ES256'] });
    await rejectsWith(v.verify(await peer.userToken()), 'INVALID_TOKEN');
    expect(() => verifier({ algorithms: ['EdDSA', 'HS256'] })).toThrow(TypeError);
    expect(() => verifier({ algorithms: ['none'] })).toThrow(TypeError);
    expect(() => verifier({ clockTolerance: 61 })).toThrow(TypeError);
  });

  it('tolerates 60 s of clock skew, not more', async () => {
    const token = await peer.userToken();
    const exp = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp;
    const { v, clock } = verifier();
    clock.ms = (exp + 59) * 1000;
    await expect(v.verify(token)).resolves.toMatchObject({ tokenType: 'user' });
    clock.ms = (exp + 61) * 1000;
    await rejectsWith(v.verify(token), 'INVALID_TOKEN');
    // Issued in the future (a clock ahead of ours by more than the tolerance).
    clock.ms = Date.now() - 120_000;
    await rejectsWith(v.verify(await peer.userToken()), 'INVALID_TOKEN');
  });

  it('fetches the JWKS once for concurrent first verifications', async () => {
    const { v, fetch } = verifier();
    const tokens = await Promise.all(Array.from({ length: 10 }, () => peer.userToken()));
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => v.verify(tokens[i % 10]!)));
    expect(results).toHaveLength(50);
    expect(fetch.count('/.well-known/jwks.json')).toBe(1);
  });

  it('an unknown kid refetches the JWKS (a rotation), at most once per 30 s, once for a concurrent burst', async () => {
    const { v, clock, fetch } = verifier();
    await v.verify(await peer.userToken());
    await peer.rotate();
    const rotated = await peer.userToken();
    // Within 30 s of the first fetch even a real new kid waits (the service pre-publishes its next key).
    await rejectsWith(v.verify(rotated), 'INVALID_TOKEN');
    expect(fetch.count('/.well-known/jwks.json')).toBe(1);
    clock.advance(30);
    const burst = await Promise.all(Array.from({ length: 50 }, () => v.verify(rotated)));
    expect(burst).toHaveLength(50);
    expect(fetch.count('/.well-known/jwks.json')).toBe(2);
    // Forged kids cannot make it hammer the JWKS: within 30 s no refetch at all.
    for (let i = 0; i < 20; i += 1) await rejectsWith(v.verify(await peer.userToken({ header: { kid: `forged-${i}` } })), 'INVALID_TOKEN');
    await peer.rotate();
    const again = await peer.userToken();
    await rejectsWith(v.verify(again), 'INVALID_TOKEN');
    expect(fetch.count('/.well-known/jwks.json')).toBe(2);
    clock.advance(30);
    await expect(v.verify(again)).resolves.toMatchObject({ tokenType: 'user' });
    expect(fetch.count('/.well-known/jwks.json')).toBe(3);
  });

  it('an unreachable JWKS before any key is known is AUTH_UNAVAILABLE; known keys survive a failed refetch', async () => {
    const { v, clock } = verifier();
    const token = await peer.userToken();
    peer.failNext('/.well-known/jwks.json', 503);
    await rejectsWith(v.verify(token), 'AUTH_UNAVAILABLE');
    clock.advance(1); // the first retry of a key set that could not be loaded waits 1 s
    await expect(v.verify(token)).resolves.toMatchObject({ tokenType: 'user' });
    clock.advance(301); // the key set is stale: refetched on next use; that fetch fails, the keys stay
    peer.failNext('/.well-known/jwks.json', 'reset');
    await expect(v.verify(token)).resolves.toMatchObject({ tokenType: 'user' });
  });

  describe('without any usable key, JWKS fetches back off (1 s, doubling to 30 s) instead of one per verify', () => {
    let stub: JwksStub;
    beforeEach(async () => (stub = await new JwksStub().start()));
    afterEach(async () => stub.stop());
    const onStub = () => verifier({ jwksUrl: stub.url });
    const peerKeys = async () => (await fetch(peer.jwksUrl)).json() as Promise<unknown>;
    /** 100 verifies, half of them a concurrent burst, all refused with `code`. */
    const hundred = async (v: ReturnType<typeof onStub>['v'], token: string, code: string) => {
      const burst = await Promise.allSettled(Array.from({ length: 50 }, () => v.verify(token)));
      expect(burst.every((r) => r.status === 'rejected' && (r.reason as AuthError).code === code)).toBe(true);
      for (let i = 0; i < 50; i += 1) await rejectsWith(v.verify(token), code);
    };

    it.each([
      ['an empty key set', 200, { keys: [] }, 'INVALID_TOKEN'],
      ['503', 503, { error: 'temporarily_unavailable' }, 'AUTH_UNAVAILABLE'],
      ['a key set of keys it cannot use', 200, { keys: [{ kid: 'k', kty: 'oct', k: 'c2VjcmV0' }] }, 'INVALID_TOKEN'],
      // A fallback page answering 200 (CONTRACT §9: without keys verification fails closed with AUTH_UNAVAILABLE).
      ['a 200 that is not a key set (a fallback page)', 200, '<!doctype html><title>app</title>', 'AUTH_UNAVAILABLE'],
      ['a 200 JSON object without keys', 200, { status: 'ok' }, 'AUTH_UNAVAILABLE'],
    ])('%s: 100 verifies cost 1 fetch, the next one after 1, 2, 4, 8, 16, 30, 30 s; keys served end the backoff', async (_what, status, body, code) => {
      const { v, clock } = onStub();
      stub.status = status;
      stub.body = body;
      const token = await peer.userToken();
      await hundred(v, token, code);
      expect(stub.requests).toBe(1);
      for (const [i, wait] of [1, 2, 4, 8, 16, 30, 30].entries()) {
        clock.advance(wait - 0.5);
        await rejectsWith(v.verify(token), code);
        expect(stub.requests).toBe(i + 1);
        clock.advance(0.5);
        await hundred(v, token, code);
        expect(stub.requests).toBe(i + 2);
      }
      // auth-service is back: after the wait the next verify fetches the keys and they serve.
      stub.status = 200;
      stub.body = await peerKeys();
      clock.advance(30);
      await expect(v.verify(token)).resolves.toMatchObject({ tokenType: 'user' });
      for (let i = 0; i < 20; i += 1) await v.verify(token);
      expect(stub.requests).toBe(9);
    });

    it('an unreachable JWKS (connection refused): 100 verifies cost 1 attempt, the next after 1 s', async () => {
      const url = stub.url;
      await stub.stop();
      const { v, clock, fetch } = verifier({ jwksUrl: url });
      const token = await peer.userToken();
      await hundred(v, token, 'AUTH_UNAVAILABLE');
      expect(fetch.count('/.well-known/jwks.json')).toBe(1);
      clock.advance(1);
      await hundred(v, token, 'AUTH_UNAVAILABLE');
      expect(fetch.count('/.well-known/jwks.json')).toBe(2);
    });

    it('a failure is retried after 1 s and a success with keys resets the backoff', async () => {
      const { v, clock } = onStub();
      stub.status = 503;
      const token = await peer.userToken();
      await rejectsWith(v.verify(token), 'AUTH_UNAVAILABLE');
      clock.advance(1);
      await rejectsWith(v.verify(token), 'AUTH_UNAVAILABLE'); // 2 fetches, next wait 2 s
      stub.status = 200;
      stub.body = await peerKeys();
      clock.advance(1.5);
      await rejectsWith(v.verify(token), 'AUTH_UNAVAILABLE');
      expect(stub.requests).toBe(2);
      clock.advance(0.5);
      await expect(v.verify(token)).resolves.toMatchObject({ tokenType: 'user' });
      expect(stub.requests).toBe(3);
      // The key set empties (a broken deploy) once it is stale: the backoff starts again at 1 s. Since stop 51 the
      // stale set still answers the verify that starts the refresh (in the background); the ones after it, once the
      // empty set has arrived, are refused.
      stub.body = { keys: [] };
      clock.advance(300);
      await expect(v.verify(token)).resolves.toMatchObject({ tokenType: 'user' });
      const deadline = Date.now() + 2000;
      while ((await v.verify(token).then(() => 'ok', (e: AuthError) => e.code)) === 'ok' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await rejectsWith(v.verify(token), 'INVALID_TOKEN');
      expect(stub.requests).toBe(4);
      stub.body = await peerKeys();
      await rejectsWith(v.verify(token), 'INVALID_TOKEN');
      clock.advance(1);
      await expect(v.verify(token)).resolves.toMatchObject({ tokenType: 'user' });
      expect(stub.requests).toBe(5);
    });
  });

  it('verifies a service token and names its scopes', async () => {
    const { v } = verifier();
    const response = await fetch(peer.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'orders', client_secret: peer.clients[0]!.secret }),
    });
    const { access_token: token } = (await response.json()) as { access_token: string };
    await expect(v.verify(token)).resolves.toMatchObject({ subject: 'orders', sessionId: null, tokenType: 'service', roles: [], scopes: ['orders:read', 'orders:write'] });
  });
});

describe('createTokenVerifier online (introspection at a local RFC 7662 peer)', () => {
  let peer: OAuthPeer;
  beforeAll(async () => (peer = await new OAuthPeer().start()));
  afterAll(async () => peer.stop());

  const verifier = (breaker = { failureThreshold: 3, resetAfterMs: 10_000 }) => {
    const clock = new FakeClock();
    const fetch = countingFetch();
    const client = peer.clients[0]!;
    const v = createTokenVerifier({
      issuer: PEER_ISSUER,
      audience: PEER_AUDIENCE,
      jwksUrl: peer.jwksUrl,
      introspection: { url: peer.introspectUrl, clientId: client.id, clientSecret: client.secret, cacheTtlMs: 5000 },
      breaker,
      fetch,
      now: clock.now,
    });
    return { v, clock, fetch };
  };
  const introspections = (fetch: ReturnType<typeof countingFetch>) => fetch.count('/oauth/introspect');

  it('a revoked session is refused at once online, while offline still accepts it until it expires', async () => {
    const { v, fetch } = verifier();
    const sid = randomUUID();
    const token = await peer.userToken({ sid });
    await expect(v.verify(token, { online: true })).resolves.toMatchObject({ sessionId: sid });
    peer.revokeSession(sid);
    const other = await peer.userToken({ sid });
    await expect(v.verify(other, { online: true })).rejects.toMatchObject({ code: 'INVALID_TOKEN', status: 401 });
    await expect(v.verify(other)).resolves.toMatchObject({ sessionId: sid });
    expect(introspections(fetch)).toBe(2);
  });

  it('caches answers a few seconds and shares one request among concurrent checks of one token', async () => {
    const { v, clock, fetch } = verifier();
    const sid = randomUUID();
    const token = await peer.userToken({ sid });
    await Promise.all(Array.from({ length: 20 }, () => v.verify(token, { online: true })));
    expect(introspections(fetch)).toBe(1);
    peer.revokeSession(sid);
    clock.advance(4);
    await expect(v.verify(token, { online: true })).resolves.toMatchObject({ sessionId: sid }); // cached
    clock.advance(1);
    await expect(v.verify(token, { online: true })).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    expect(introspections(fetch)).toBe(2);
  });

  it('a signature spelled non-canonically (unused low bits of its last base64url character set) is INVALID_TOKEN before any request: one token, one spelling, one cache entry (stop 49)', async () => {
    const { v, fetch } = verifier();
    const sid = randomUUID();
    const token = await peer.userToken({ sid });
    const cut = token.lastIndexOf('.') + 1;
    const signature = token.slice(cut);
    expect(signature).toHaveLength(86); // Ed25519: 64 bytes, the last character carrying 2 bits and 4 unused ones
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(signature.at(-1)!);
    expect(last & 0x0f).toBe(0);
    const spellings = Array.from({ length: 15 }, (_, k) => `${token.slice(0, cut)}${signature.slice(0, -1)}${alphabet[last | (k + 1)]}`);
    for (const spelling of spellings) {
      // The same bytes to a lenient decoder: that is what made each spelling a distinct, valid token.
      expect(Buffer.from(spelling.slice(cut), 'base64url').equals(Buffer.from(signature, 'base64url'))).toBe(true);
      await expect(v.verify(spelling, { online: true })).rejects.toMatchObject({ code: 'INVALID_TOKEN', status: 401 });
    }
    expect(fetch.total()).toBe(0); // neither the JWKS nor introspection was asked
    await expect(v.verify(token, { online: true })).resolves.toMatchObject({ sessionId: sid });
    expect(introspections(fetch)).toBe(1);
  });

  it('a forged token is refused offline, without asking the service', async () => {
    const { v, fetch } = verifier();
    await expect(v.verify(await peer.userToken({ claims: { aud: 'x' } }), { online: true })).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    expect(introspections(fetch)).toBe(0);
  });

  it('fails closed with AUTH_UNAVAILABLE; the circuit opens after 3 failures and closes when the service answers again', async () => {
    const { v, clock, fetch } = verifier();
    const tokens = await Promise.all(Array.from({ length: 6 }, () => peer.userToken()));
    await v.verify(tokens[0]!); // JWKS loaded
    peer.failNext('/oauth/introspect', 503, 'reset', 500, 503);
    for (const token of tokens.slice(0, 3)) await expect(v.verify(token, { online: true })).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE', status: 503 });
    expect(introspections(fetch)).toBe(3);
    // Open: refused at once, nothing sent.
    await expect(v.verify(tokens[3]!, { online: true })).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE' });
    expect(introspections(fetch)).toBe(3);
    // After the reset time one trial goes through; it fails (the peer's 4th failure): open again.
    clock.advance(10);
    await expect(v.verify(tokens[3]!, { online: true })).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE' });
    await expect(v.verify(tokens[4]!, { online: true })).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE' });
    expect(introspections(fetch)).toBe(4);
    // The service is back: the next trial succeeds and closes the circuit.
    clock.advance(10);
    await expect(v.verify(tokens[4]!, { online: true })).resolves.toMatchObject({ tokenType: 'user' });
    await expect(v.verify(tokens[5]!, { online: true })).resolves.toMatchObject({ tokenType: 'user' });
    expect(introspections(fetch)).toBe(6);
  });

  it('a 429 pauses introspection for its Retry-After: fail closed without a request meanwhile, never counted by the breaker (outside review, 2026-12-04)', async () => {
    const { v, clock, fetch } = verifier({ failureThreshold: 3, resetAfterMs: 600_000 });
    const tokens = await Promise.all(Array.from({ length: 5 }, () => peer.userToken()));
    await v.verify(tokens[0]!); // JWKS loaded
    peer.failNext('/oauth/introspect', 429, 429, 429);
    for (let round = 0; round < 3; round += 1) {
      const refused = v.verify(tokens[round]!, { online: true });
      await expect(refused).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE', status: 503, details: { rate_limited: true, retry_after_seconds: 30 } });
      expect(introspections(fetch)).toBe(round + 1);
      // Within the pause: refused at once, nothing sent.
      clock.advance(29);
      await expect(v.verify(tokens[4]!, { online: true })).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE', details: { rate_limited: true, retry_after_seconds: 1 } });
      expect(introspections(fetch)).toBe(round + 1);
      clock.advance(1);
    }
    // Three 429s in a row (the breaker's threshold) did not open the circuit: the next question is sent and answered.
    await expect(v.verify(tokens[3]!, { online: true })).resolves.toMatchObject({ tokenType: 'user' });
    expect(introspections(fetch)).toBe(4);
  });

  it('the circuit opens while the peer is stopped and closes when it is back on its port', async () => {
    const own = await new OAuthPeer().start();
    const clock = new FakeClock();
    const fetch = countingFetch();
    const v = createTokenVerifier({
      issuer: PEER_ISSUER,
      audience: PEER_AUDIENCE,
      jwksUrl: own.jwksUrl,
      introspection: { url: own.introspectUrl, clientId: 'orders', clientSecret: own.clients[0]!.secret, cacheTtlMs: 0 },
      breaker: { failureThreshold: 2, resetAfterMs: 5000 },
      fetch,
      now: clock.now,
    });
    const token = await own.userToken();
    await expect(v.verify(token, { online: true })).resolves.toMatchObject({ tokenType: 'user' });
    const port = own.port;
    await own.stop();
    for (let round = 0; round < 3; round += 1) {
      const before = fetch.count('/oauth/introspect');
      const results = await Promise.allSettled(Array.from({ length: 10 }, () => v.verify(token, { online: true })));
      expect(results.every((r) => r.status === 'rejected' && (r.reason as AuthError).code === 'AUTH_UNAVAILABLE')).toBe(true);
      // Closed (round 0): at most the failure threshold (2): a refused connection can fail the shared request
      // before the rest of the burst has passed its offline checks, and the next one then asks again, until the
      // circuit opens. Half-open (later rounds): at most the one trial.
      expect(fetch.count('/oauth/introspect') - before).toBeLessThanOrEqual(round === 0 ? 2 : 1);
      await expect(v.verify(token, { online: true })).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE' });
      clock.advance(5);
    }
    await own.start(port);
    try {
      await expect(v.verify(token, { online: true })).resolves.toMatchObject({ tokenType: 'user' });
      await expect(v.verify(token, { online: true })).resolves.toMatchObject({ tokenType: 'user' });
    } finally {
      await own.stop();
    }
  });

  it('wrong client credentials at introspection fail closed (AUTH_UNAVAILABLE), never active', async () => {
    const clock = new FakeClock();
    const v = createTokenVerifier({
      issuer: PEER_ISSUER,
      audience: PEER_AUDIENCE,
      jwksUrl: peer.jwksUrl,
      introspection: { url: peer.introspectUrl, clientId: 'orders', clientSecret: 'wrong' },
      now: clock.now,
    });
    await expect(v.verify(await peer.userToken(), { online: true })).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE' });
  });

  it('online without introspection configured is a programming error', async () => {
    const v = createTokenVerifier({ issuer: PEER_ISSUER, audience: PEER_AUDIENCE, jwksUrl: peer.jwksUrl });
    await expect(v.verify(await peer.userToken(), { online: true })).rejects.toThrow(TypeError);
    expect(() => v.middleware({ online: true })).toThrow(TypeError);
  });
});
