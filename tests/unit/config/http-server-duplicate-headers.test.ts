import { TrackedHttpServer, type RefusedRequest } from '@config/http-server';
import { answerOf, rawExchange } from '../../support/raw-http';
import { buildTestApp } from '../interface/http/support/test-app';

const envelope = (text: string) => {
  const answer = answerOf(text);
  return { ...answer, body: answer.body as Record<string, unknown> };
};

/**
 * A review of stop 52: a second Host or Content-Type header was served as the first copy (Node keeps only that one
 * in `req.headers`): `Host: a` + `Host: b` got 200, and `Content-Type: application/json` + `Content-Type: text/plain`
 * was parsed as JSON, while a proxy or firewall in front may act on the other copy. RFC 9112 §3.2: a server MUST
 * answer 400 to more than one Host. Both are refused before the app now, in the envelope, counted in either order
 * and any case.
 */
describe('TrackedHttpServer refuses a request with more than one Host or Content-Type header', () => {
  let server: TrackedHttpServer;
  let port: number;
  const refusals: RefusedRequest[] = [];
  /** What the app saw of each request that reached it. */
  const served: string[] = [];
  beforeAll(async () => {
    server = new TrackedHttpServer(
      async (req, res) => {
        let body = '';
        for await (const chunk of req) body += String(chunk);
        served.push(`${req.headers.host} ${req.headers['content-type'] ?? '-'} ${req.headers['content-encoding'] ?? '-'} ${body}`);
        res.end('app');
      },
      {},
      (refusal) => refusals.push(refusal),
    );
    port = await server.listen(0, '127.0.0.1');
  });
  afterAll(() => server.stop(100));

  const post = (headers: string) => `POST /auth/login HTTP/1.1\r\n${headers}\r\nContent-Length: 2\r\n\r\n{}`;

  it.each([
    ['two Host headers', 'GET /auth/validate HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n', 'Host'],
    ['two Host headers, the second in another case', 'GET /.well-known/jwks.json HTTP/1.1\r\nHost: b\r\nhOST: a\r\nConnection: close\r\n\r\n', 'Host'],
    ['two Host headers on HTTP/1.0', 'GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n', 'Host'],
    ['Content-Type JSON, then text', post('Host: a\r\nContent-Type: application/json\r\nContent-Type: text/plain'), 'Content-Type'],
    ['Content-Type text, then JSON', post('Host: a\r\ncontent-type: text/plain\r\nCONTENT-TYPE: application/json'), 'Content-Type'],
    ['an empty Content-Type, then JSON', post('Host: a\r\nContent-Type:\r\nContent-Type: application/json'), 'Content-Type'],
  ])('%s: 400 BAD_REQUEST in the envelope, with an X-Request-ID, the app never reached', async (_name, raw, header) => {
    const before = served.length;
    const answer = envelope(await rawExchange(port, raw));
    expect(answer.statusLine).toMatch(/^HTTP\/1\.[01] 400 Bad Request$/);
    expect(answer.head).toMatch(/\r\nCache-Control: no-store\r\n/i);
    expect(answer.body).toEqual({
      success: false,
      error: { code: 'BAD_REQUEST', message: `The request has more than one ${header} header.` },
      meta: expect.objectContaining({ request_id: answer.requestId }),
    });
    expect(refusals.at(-1)).toEqual({ reason: 'duplicate_header', status: 400, parserCode: null, remoteAddress: expect.stringMatching(/127\.0\.0\.1$/), requestId: answer.requestId });
    expect(served).toHaveLength(before);
  });

  it("the refusal carries the caller's well-formed X-Request-ID; with a body (never read) the connection closes, without one the next request on it is served", async () => {
    const before = served.length;
    const withBody = await rawExchange(port, post('Host: a\r\nX-Request-ID: dup-trace-7\r\nContent-Type: application/json\r\nContent-Type: text/plain'));
    const answer = envelope(withBody);
    expect(answer.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(answer.requestId).toBe('dup-trace-7');
    expect(answer.body).toMatchObject({ meta: { request_id: 'dup-trace-7' } });
    expect(answer.head).toMatch(/\r\nConnection: close\r\n/i);
    const text = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*\}HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\napp$/);
    expect(served.slice(before)).toEqual(['a - - ']);
  });

  it('one Host and one Content-Type still reach the app; so do other repeated headers, and Content-Encoding copies arrive joined (refused by the body readers: below)', async () => {
    const refused = refusals.length;
    const one = await rawExchange(port, post('Host: a\r\nContent-Type: application/json\r\nAccept: a\r\nAccept: b\r\nConnection: close'));
    expect(one).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\napp$/);
    const encoded = await rawExchange(port, post('Host: a\r\nContent-Type: application/json\r\nContent-Encoding: identity\r\nContent-Encoding: gzip\r\nConnection: close'));
    expect(encoded).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    const hostOnly = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    expect(hostOnly).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(served.slice(-3)).toEqual(['a application/json - {}', 'a application/json identity, gzip {}', 'a - - ']);
    expect(refusals).toHaveLength(refused);
  });
});

describe('the app behind TrackedHttpServer', () => {
  let server: TrackedHttpServer;
  let port: number;
  beforeAll(async () => {
    const t = await buildTestApp();
    server = new TrackedHttpServer(t.app.callback());
    port = await server.listen(0, '127.0.0.1');
  });
  afterAll(() => server.stop(100));

  const login = (headers: string) => {
    const body = '{"identifier":"a@b.c","password":"x"}';
    return `POST /api/v1/auth/login HTTP/1.1\r\nHost: a\r\n${headers}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
  };

  it('a login with Content-Type JSON then text is refused 400 in either order, never parsed as JSON (was: JSON first parsed, text first 415)', async () => {
    for (const types of ['application/json\r\nContent-Type: text/plain', 'text/plain\r\nContent-Type: application/json']) {
      const answer = envelope(await rawExchange(port, login(`Content-Type: ${types}`)));
      expect(answer.statusLine).toBe('HTTP/1.1 400 Bad Request');
      expect(answer.body).toMatchObject({ success: false, error: { code: 'BAD_REQUEST', message: 'The request has more than one Content-Type header.' } });
    }
  });

  it('two Content-Encoding headers, even both identity, are refused as a compressed body is by the JSON and form readers (Node joins them)', async () => {
    const encodings = 'Content-Encoding: identity\r\nContent-Encoding: identity';
    const json = envelope(await rawExchange(port, login(`Content-Type: application/json\r\n${encodings}`)));
    expect(json.statusLine).toBe('HTTP/1.1 415 Unsupported Media Type');
    expect(json.body).toMatchObject({ success: false, error: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
    // /oauth/token answers in RFC 6749's format: the same refusal as for gzip.
    const form = 'grant_type=client_credentials';
    const token = (encoding: string) =>
      rawExchange(port, `POST /oauth/token HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\n${encoding}\r\nContent-Length: ${form.length}\r\nConnection: close\r\n\r\n${form}`);
    const twice = envelope(await token(encodings));
    const gzip = envelope(await token('Content-Encoding: gzip'));
    expect(twice.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(twice.body).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/form-urlencoded or application\/json/) });
    expect([twice.statusLine, twice.body]).toEqual([gzip.statusLine, gzip.body]);
  });
});
