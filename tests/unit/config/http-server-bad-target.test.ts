import { TrackedHttpServer, type RefusedRequest } from '@config/http-server';
import { answerOf, rawExchange } from '../../support/raw-http';
import { buildTestApp } from '../interface/http/support/test-app';

/**
 * A review of stop 55: an absolute-form request target whose authority url.parse refuses (`GET http://a[b/x`) passed
 * Node's parser, and Koa's `ctx.path` threw at every read: the error handler's answer read it, then the request log
 * read it again and that throw escaped every middleware. Koa answered a bare `500 text/plain` with no X-Request-ID and
 * no security headers, logged two errors, and counted a 5xx. Now it is refused below the app, in the envelope.
 */
describe('a request target Koa cannot read is a 400 in the envelope, never a 500', () => {
  let server: TrackedHttpServer;
  let port: number;
  const refusals: RefusedRequest[] = [];
  const logged: string[] = [];
  beforeAll(async () => {
    const t = await buildTestApp();
    server = new TrackedHttpServer(t.app.callback(), {}, (refusal) => refusals.push(refusal));
    port = await server.listen(0, '127.0.0.1');
    t.app.on('error', (error: Error) => logged.push(error.message));
  });
  afterAll(() => server.stop(100));

  it.each([
    ['GET', 'http://a[b/api/v1/users/me'],
    ['GET', 'http://[::1/x'],
    ['GET', 'https://a[b]c/.well-known/jwks.json'],
    ['POST', 'http://a[b/api/v1/auth/login'],
    // Read by url.parse with no path (Koa's ctx.path null): a bare 500 until an outside review, 2026-12-07.
    ['GET', 'foo://x'],
    ['GET', 'foo://x?a'],
    ['POST', 'foo://y'],
  ])('%s %s: 400 BAD_REQUEST with an X-Request-ID, refused before the app', async (method, target) => {
    const body = method === 'POST' ? '{"email":"a@b.co","password":"x"}' : '';
    const length = method === 'POST' ? `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n` : '';
    const answer = answerOf(await rawExchange(port, `${method} ${target} HTTP/1.1\r\nHost: a\r\nX-Request-ID: bad-target-1\r\n${length}Connection: close\r\n\r\n${body}`));
    expect(answer.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(answer.requestId).toBe('bad-target-1');
    expect(answer.body).toEqual({
      success: false,
      error: { code: 'BAD_REQUEST', message: 'The request target is not a URL the server can read.' },
      meta: expect.objectContaining({ request_id: 'bad-target-1' }),
    });
    expect(refusals.at(-1)).toMatchObject({ reason: 'bad_target', status: 400, requestId: 'bad-target-1' });
    expect(logged).toEqual([]);
  });

  it('an absolute-form target the parser can read still reaches the app, and so does an origin-form one with brackets', async () => {
    const refused = refusals.length;
    const absolute = answerOf(await rawExchange(port, 'GET http://a/.well-known/jwks.json HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'));
    expect(absolute.statusLine).toBe('HTTP/1.1 200 OK');
    expect(absolute.body).toMatchObject({ keys: expect.any(Array) });
    const bracketed = answerOf(await rawExchange(port, 'GET /a[b HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'));
    expect(bracketed.statusLine).toBe('HTTP/1.1 404 Not Found');
    expect(bracketed.body).toMatchObject({ success: false, error: { code: 'ROUTE_NOT_FOUND' } });
    expect(refusals).toHaveLength(refused);
    expect(logged).toEqual([]);
  });
});
