import { AuthClient, AuthError } from '../../../src/sdk';
import type { Tokens } from '../../../src/sdk/types';

/**
 * A refresh the service carried out whose answer was lost (a timeout, a reset, an answer cut off): the SDK kept the
 * spent refresh token, and the next refresh, often more than 10 s later, presented it again, and the service's reuse
 * detection revoked the session (a review, stop 65). The service here is a fetch that rotates refresh tokens as the
 * real one does (README "Refresh token"): the token just replaced gets the same new pair for 10 s, later it revokes
 * the session. The resource server at api.example.com refuses the first access token (expired) and any of a revoked
 * session. Time is Date.now, moved by the test.
 */
type Loss = 'TimeoutError' | 'TypeError' | 'cut off' | 'refused' | '503' | 'unsent timeout';

function service() {
  const state = {
    now: Date.now(),
    seen: [] as string[], // refresh tokens presented, in order
    requests: 0, // requests sent to /auth/refresh, whether they arrived or not
    reuse: 0,
    revoked: false,
    /** How the next answers of /auth/refresh fail, one per request, after the service has carried it out. */
    losses: [] as Loss[],
    /** Moves the clock when an answer is lost (a timeout takes its 5 s). */
    lossTakesMs: 0,
  };
  let issued = 0;
  const current = { refresh: 'refresh-0', access: 'access-0' };
  const replaced = new Map<string, { at: number; pair: Tokens }>();
  const pair = (n: number): Tokens => ({
    access_token: `access-${n}`,
    refresh_token: `refresh-${n}`,
    token_type: 'Bearer',
    expires_in: 900,
    expires_at: new Date(state.now + 900_000).toISOString(),
    refresh_expires_at: new Date(state.now + 86_400_000).toISOString(),
  });
  const envelope = (status: number, body: object) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const refused = () => envelope(401, { success: false, error: { code: 'INVALID_REFRESH_TOKEN', message: 'no' }, meta: { request_id: 'r' } });

  /** The service's POST /auth/refresh, committed before its answer goes out. */
  const rotate = (presented: string): Response => {
    state.seen.push(presented);
    if (state.revoked) return refused();
    if (presented === current.refresh) {
      const next = pair((issued += 1));
      replaced.set(presented, { at: state.now, pair: next });
      current.refresh = next.refresh_token;
      current.access = next.access_token;
      return envelope(200, { success: true, data: { tokens: next }, meta: { request_id: 'r' } });
    }
    const earlier = replaced.get(presented);
    if (earlier && state.now - earlier.at < 10_000) return envelope(200, { success: true, data: { tokens: earlier.pair }, meta: { request_id: 'r' } });
    if (earlier) {
      state.reuse += 1; // reuse detected: the whole session is revoked (and its owner mailed)
      state.revoked = true;
    }
    return refused();
  };

  const fetch = async (input: string | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(input);
    if (url.pathname === '/api/v1/auth/refresh') {
      state.requests += 1;
      const loss = state.losses.shift();
      if (loss === 'refused') throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
      if (loss === '503') return envelope(503, { success: false, error: { code: 'SERVICE_UNAVAILABLE', message: 'no' }, meta: { request_id: 'r' } });
      if (loss === 'unsent timeout') {
        // An outage the request never crossed (packets dropped on the way): nothing rotated, the clock moves 5 s.
        state.now += state.lossTakesMs;
        throw new DOMException('The operation was aborted due to timeout', 'TimeoutError');
      }
      const answer = rotate((JSON.parse(String(init?.body)) as { refresh_token: string }).refresh_token);
      if (loss === undefined) return answer;
      state.now += state.lossTakesMs;
      if (loss === 'TimeoutError') throw new DOMException('The operation was aborted due to timeout', 'TimeoutError');
      if (loss === 'TypeError') throw new TypeError('fetch failed');
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"success":true,"da'));
          controller.error(new Error('socket hang up'));
        },
      });
      return new Response(body, { status: 200 });
    }
    const token = new Headers(init?.headers).get('authorization')?.slice('Bearer '.length);
    if (!state.revoked && token !== 'access-0' && token?.startsWith('access-')) return new Response('{}', { status: 200 });
    return new Response('{}', { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });
  };
  return { state, fetch };
}

describe('session(): a refresh whose answer is lost', () => {
  let server: ReturnType<typeof service>;
  beforeEach(() => {
    server = service();
    jest.spyOn(Date, 'now').mockImplementation(() => server.state.now);
  });
  afterEach(() => jest.restoreAllMocks());

  const open = () => {
    const stored: Tokens[] = [];
    const client = new AuthClient({ baseUrl: 'https://auth.example.com', fetch: server.fetch });
    const first: Tokens = { access_token: 'access-0', refresh_token: 'refresh-0', token_type: 'Bearer', expires_in: 900, expires_at: '', refresh_expires_at: '' };
    return { api: client.session(first, { onTokens: (t) => void stored.push(t) }), stored };
  };
  const call = (api: ReturnType<typeof open>['api']) => api('https://api.example.com/orders');

  it.each(['TimeoutError', 'TypeError', 'cut off'] as const)('(%s) is sent again at once with the same token: the grace window replays the pair, no reuse, the call answers 200', async (loss) => {
    const { api, stored } = open();
    server.state.losses.push(loss);
    expect((await call(api)).status).toBe(200);
    expect(server.state.seen).toEqual(['refresh-0', 'refresh-0']);
    expect(stored.map((t) => t.refresh_token)).toEqual(['refresh-1']);
    // Minutes later the session goes on with the new token; the old one is never presented again.
    server.state.now += 20 * 60_000;
    expect((await call(api)).status).toBe(200);
    expect(server.state.reuse).toBe(0);
    expect(server.state.revoked).toBe(false);
  });

  it('attempts spent at once inside the window: the call fails, a later call inside it tries again and gets the replay', async () => {
    const { api } = open();
    server.state.losses.push('TypeError', 'TypeError', 'TypeError', 'TypeError');
    await expect(call(api)).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE', status: 503 });
    server.state.now += 3000;
    expect((await call(api)).status).toBe(200);
    expect(server.state.seen).toEqual(Array(5).fill('refresh-0'));
    expect(server.state.reuse).toBe(0);
  });

  it('an outage of more than the window: the call fails, the token is kept, and the session goes on once the service is back', async () => {
    const { api, stored } = open();
    server.state.lossTakesMs = 5000; // each attempt is a 5 s timeout that never reached the service
    server.state.losses.push('unsent timeout', 'unsent timeout');
    const error = await call(api).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ code: 'AUTH_UNAVAILABLE' });
    // Sent at 0 s and 5 s, not at 10 s (the window is 8 s); none arrived.
    expect([server.state.requests, server.state.seen, server.state.losses]).toEqual([2, [], []]);
    server.state.now += 60_000;
    // A first version ended the session here: every session signed out by an outage of 10 s (a review, stop 65).
    expect((await call(api)).status).toBe(200);
    expect(stored.map((t) => t.refresh_token)).toEqual(['refresh-1']);
    expect(server.state.reuse).toBe(0);
  });

  it('no answer within the window to a refresh the service carried out: the kept token is reuse later (the residue, documented)', async () => {
    const { api } = open();
    server.state.lossTakesMs = 5000;
    server.state.losses.push('TimeoutError', 'TimeoutError', 'TimeoutError');
    await expect(call(api)).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE' });
    expect(server.state.seen).toEqual(['refresh-0', 'refresh-0']); // sent at 0 s and 5 s (the second one replayed), not at 10 s
    server.state.now += 60_000;
    expect((await call(api)).status).toBe(401);
    expect(server.state.reuse).toBe(1);
  });

  it('a lost answer, then refused connections while the instance restarts: sent again after a pause, inside the window, and replayed (a review, stop 65)', async () => {
    const { api, stored } = open();
    server.state.losses.push('TypeError', 'refused', 'refused');
    expect((await call(api)).status).toBe(200);
    expect([server.state.requests, server.state.seen]).toEqual([4, ['refresh-0', 'refresh-0']]);
    expect(stored.map((t) => t.refresh_token)).toEqual(['refresh-1']);
    expect(server.state.reuse).toBe(0);
  });

  it('an HTTP answer (503) or a refused connection is not sent again, and does not end the session', async () => {
    const { api } = open();
    server.state.losses.push('503');
    await expect(call(api)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
    server.state.losses.push('refused');
    await expect(call(api)).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE', status: 503 });
    server.state.now += 60_000; // nothing was rotated: the same token, a minute later, is still good
    expect((await call(api)).status).toBe(200);
    expect(server.state.seen).toEqual(['refresh-0']); // the 503 and the refused connection never reached rotate()
    expect(server.state.reuse).toBe(0);
  });
});
