import { createSession } from '../../../src/sdk/session';
import type { Tokens } from '../../../src/sdk/types';

/** Tokens as auth-service issues them, numbered; `expiresInMs` from now. */
function tokens(n: number, expiresInMs = 900_000): Tokens {
  return {
    access_token: `access-${n}`,
    refresh_token: `refresh-${n}`,
    token_type: 'Bearer',
    expires_in: Math.round(expiresInMs / 1000),
    expires_at: new Date(Date.now() + expiresInMs).toISOString(),
    refresh_expires_at: new Date(Date.now() + 86_400_000).toISOString(),
  };
}

/** A resource server that refuses every bearer token but `accepted` with 401 + WWW-Authenticate (RFC 6750 §3). */
function resourceServer(accepted: (token: string) => boolean) {
  const seen: string[] = [];
  const fetch = async (_input: string | URL, init?: RequestInit): Promise<Response> => {
    const token = new Headers(init?.headers).get('authorization')?.slice('Bearer '.length) ?? '';
    seen.push(token);
    if (accepted(token)) return new Response('{}', { status: 200 });
    return new Response('{}', { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });
  };
  return { fetch, seen };
}

describe('createSession', () => {
  it('the refused answer is not read before the retry: its body is cancelled, however long (it was read whole)', async () => {
    const chunk = new Uint8Array(64 * 1024);
    let pulled = 0;
    let cancelled = false;
    // 64 MiB on offer: a refusing server (or one in the middle) that sends a long 401.
    const long = () =>
      new ReadableStream<Uint8Array>({
        pull(controller) {
          if (pulled >= 64 * 1024 * 1024) return controller.close();
          pulled += chunk.length;
          controller.enqueue(chunk);
        },
        cancel() {
          cancelled = true;
        },
      });
    const fetch = async (_input: string | URL, init?: RequestInit): Promise<Response> => {
      const token = new Headers(init?.headers).get('authorization');
      if (token === 'Bearer access-1') return new Response('{}', { status: 200 });
      return new Response(long(), { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });
    };
    const session = createSession(tokens(0), {}, async () => tokens(1), fetch);
    expect((await session('https://api.example.com/orders')).status).toBe(200);
    expect(cancelled).toBe(true);
    expect(pulled).toBeLessThanOrEqual(4 * chunk.length);
  });

  it('a token refused right after the refresh that gave it is not refreshed again call after call (outside review, 2026-12-04)', async () => {
    let refreshes = 0;
    const refresh = async () => tokens((refreshes += 1));
    const server = resourceServer(() => false); // takes none of this session's tokens (a wrong audience)
    const session = createSession(tokens(0), {}, refresh, server.fetch);
    for (let call = 0; call < 5; call += 1) expect((await session('https://api.example.com/orders')).status).toBe(401);
    expect(refreshes).toBe(1);
    expect(server.seen).toEqual(['access-0', 'access-1', 'access-1', 'access-1', 'access-1', 'access-1']);
  });

  it('a token refused when new is refreshed again once it has expired, and the session goes on', async () => {
    let refreshes = 0;
    const refresh = async () => {
      refreshes += 1;
      // The first refresh gives a token that expires at once; the second a good one.
      return refreshes === 1 ? tokens(1, -1) : tokens(2);
    };
    const server = resourceServer((token) => token === 'access-2');
    const session = createSession(tokens(0), {}, refresh, server.fetch);
    expect((await session('https://api.example.com/orders')).status).toBe(401);
    expect((await session('https://api.example.com/orders')).status).toBe(200);
    expect(refreshes).toBe(2);
    expect(session.tokens.access_token).toBe('access-2');
  });

  it('a token refused when new counts as expired after its expires_in, whatever this clock says of expires_at (a review of clocks, stop 65)', async () => {
    let refreshes = 0;
    // A client clock an hour behind the server's: the token's expires_at reads as an hour away, though its
    // expires_in (0 s) says it is over; by expires_at the session answered 401 for an hour without refreshing.
    const behind = (token: Tokens): Tokens => ({ ...token, expires_in: 0, expires_at: new Date(Date.now() + 3_600_000).toISOString() });
    const refresh = async () => ((refreshes += 1) === 1 ? behind(tokens(1)) : tokens(2));
    const server = resourceServer((token) => token === 'access-2');
    const session = createSession(tokens(0), {}, refresh, server.fetch);
    expect((await session('https://api.example.com/orders')).status).toBe(401);
    expect((await session('https://api.example.com/orders')).status).toBe(200);
    expect(refreshes).toBe(2);
  });

  it('a 401 for an old token still refreshes once and the retry succeeds, with concurrent calls sharing the refresh', async () => {
    let refreshes = 0;
    const refresh = async () => tokens((refreshes += 1));
    const server = resourceServer((token) => token !== 'access-0');
    const session = createSession(tokens(0), {}, refresh, server.fetch);
    const answers = await Promise.all(Array.from({ length: 5 }, () => session('https://api.example.com/orders')));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(refreshes).toBe(1);
  });
});
