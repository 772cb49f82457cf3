import { ServiceTokenSource, type FetchLike } from '../../../src/sdk';
import { FakeClock, recordingSleep } from './support';

/**
 * No cached token and the token endpoint answering 503 temporarily_unavailable with Retry-After (an outage, as the
 * service answers it): each getToken() sent its 4 requests (the first and 3 retries) and no pause was remembered (only
 * a 429's was), so every caller during the outage added 4 requests at once (a review, stop 65). The pause the 503 asks
 * for is now repeated to callers without a request, as a 429's is: at least 5 s, at most 60 s.
 */
describe('ServiceTokenSource: a 503 with Retry-After and no token to serve', () => {
  const setup = (retryAfter: string | null) => {
    const state = { calls: 0, down: true };
    const fetch: FetchLike = async () => {
      state.calls += 1;
      if (!state.down) return new Response(JSON.stringify({ access_token: `tok${state.calls}`, token_type: 'Bearer', expires_in: 900 }), { status: 200 });
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (retryAfter !== null) headers['retry-after'] = retryAfter;
      return new Response(JSON.stringify({ error: 'temporarily_unavailable', error_description: 'try again' }), { status: 503, headers });
    };
    const clock = new FakeClock();
    const { sleep } = recordingSleep();
    const tokens = new ServiceTokenSource({ tokenUrl: 'http://auth.test/oauth/token', clientId: 'orders', clientSecret: 's', fetch, sleep, now: clock.now });
    return { state, tokens, clock };
  };

  it('Retry-After: 30, two getToken() in a row: 4 requests in all, the second rejected without one; after the pause it asks again', async () => {
    const { state, tokens, clock } = setup('30');
    await expect(tokens.getToken()).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE', status: 503, retryAfterSeconds: 30 });
    expect(state.calls).toBe(4);
    await expect(tokens.getToken()).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE', status: 503, retryAfterSeconds: 30 });
    expect(state.calls).toBe(4);
    state.down = false;
    clock.advance(29.999);
    await expect(tokens.getToken()).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE' });
    expect(state.calls).toBe(4);
    clock.advance(0.001);
    await expect(tokens.getToken()).resolves.toBe('tok5');
  });

  it('the pause is capped: Retry-After: 3600 is read as 60 s, Retry-After: 1 as 5 s', async () => {
    const long = setup('3600');
    await long.tokens.getToken().catch(() => undefined);
    long.state.down = false;
    long.clock.advance(59.999);
    await expect(long.tokens.getToken()).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE' });
    long.clock.advance(0.001);
    await expect(long.tokens.getToken()).resolves.toBe('tok5');
    const short = setup('1');
    await short.tokens.getToken().catch(() => undefined);
    short.state.down = false;
    short.clock.advance(4.999);
    await expect(short.tokens.getToken()).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE' });
    short.clock.advance(0.001);
    await expect(short.tokens.getToken()).resolves.toBe('tok5');
  });

  it('without Retry-After nothing is remembered: the next getToken() asks again', async () => {
    const { state, tokens } = setup(null);
    await expect(tokens.getToken()).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE' });
    state.down = false;
    await expect(tokens.getToken()).resolves.toBe('tok5');
  });
});
