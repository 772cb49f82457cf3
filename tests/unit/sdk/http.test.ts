import { AuthError, ServiceTokenSource, type FetchLike } from '../../../src/sdk';
import { readJson } from '../../../src/sdk/http';

/** A 200 whose body breaks off after its first bytes, as when the connection is reset mid-answer. */
function cutOffResponse(): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"access_token":"ey'));
      controller.error(new Error('socket hang up'));
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
}

describe('SDK: an answer cut off while it is read', () => {
  it('readJson throws AUTH_UNAVAILABLE (transient), not an empty body', async () => {
    const error = await readJson(cutOffResponse()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).code).toBe('AUTH_UNAVAILABLE');
  });

  it('readJson still reads a whole body, and a non-JSON one as undefined', async () => {
    await expect(readJson(new Response('{"a":1}'))).resolves.toEqual({ a: 1 });
    await expect(readJson(new Response('<html>bad gateway</html>'))).resolves.toBeUndefined();
  });

  it('ServiceTokenSource reports the cut-off /oauth/token answer as unavailable, not as an unexpected 200', async () => {
    const fetch: FetchLike = async () => cutOffResponse();
    const tokens = new ServiceTokenSource({ tokenUrl: 'http://127.0.0.1:9/oauth/token', clientId: 'c', clientSecret: 's', fetch, retries: 0 });
    const error = await tokens.getToken().catch((caught: unknown) => caught);
    expect((error as AuthError).code).toBe('AUTH_UNAVAILABLE');
  });
});
