import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { connect } from 'node:net';
import { readLimited } from '@interface/http/middleware/json-body';
import { buildTestApp, expectErrorEnvelope, type TestApp } from './support/test-app';

const LOGIN = '/api/v1/auth/login';

/** Streams `totalBytes` of JSON-looking data with chunked encoding (no Content-Length) and resolves with the status. */
function streamWithoutLength(t: TestApp, totalBytes: number): Promise<{ status: number; serverBytesRead: number }> {
  const server = http.createServer(t.app.callback());
  let serverBytesRead = 0;
  server.on('connection', (socket) => socket.on('close', () => (serverBytesRead = socket.bytesRead)));
  return new Promise((resolve, reject) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      const req = http.request({ port, host: '127.0.0.1', method: 'POST', path: LOGIN, headers: { 'Content-Type': 'application/json' } });
      let bytesWritten = 0;
      let stop = false;
      const chunk = Buffer.alloc(16 * 1024, 'a');
      // The server may close the connection while we are still writing; that is the expected outcome.
      req.on('error', () => undefined);
      req.on('response', (res) => {
        stop = true;
        res.resume();
        res.on('end', () => server.close(() => resolve({ status: res.statusCode ?? 0, serverBytesRead })));
      });
      const pump = (): void => {
        while (!stop && bytesWritten < totalBytes) {
          bytesWritten += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        if (!stop) req.end();
      };
      req.write('{"email":"');
      pump();
    });
    server.on('error', reject);
  });
}

describe('JSON body reader', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp();
  });

  it('answers 400 MALFORMED_JSON for a syntax error', async () => {
    const res = await t.http().post(LOGIN).set('Content-Type', 'application/json').send('{"email": "a@b.c",');
    expect(res.status).toBe(400);
    expectErrorEnvelope(res.body, 'MALFORMED_JSON');
  });

  it('answers 400 MALFORMED_JSON for bytes that are not UTF-8', async () => {
    const bytes = Buffer.concat([Buffer.from('{"email":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    // serialize(): superagent would otherwise turn a Buffer into {"type":"Buffer","data":[...]}.
    const res = await t.http().post(LOGIN).set('Content-Type', 'application/json').serialize(() => bytes as unknown as string).send({});
    expect(res.status).toBe(400);
    expectErrorEnvelope(res.body, 'MALFORMED_JSON');
  });

  it.each([
    ['text/plain', '{"email":"a@b.c","password":"x"}'],
    ['application/x-www-form-urlencoded', 'email=a%40b.c&password=x'],
    ['application/json; charset=latin1', '{"email":"a@b.c","password":"x"}'],
    ['application/jsonx', '{"email":"a@b.c","password":"x"}'],
  ])('answers 415 for Content-Type %s', async (type, body) => {
    const res = await t.http().post(LOGIN).set('Content-Type', type).send(body);
    expect(res.status).toBe(415);
    expectErrorEnvelope(res.body, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers 415 when Content-Type is missing on a body route', async () => {
    const res = await t.http().post(LOGIN).send(Buffer.from('{"email":"a@b.c","password":"x"}'));
    expect(res.status).toBe(415);
    expectErrorEnvelope(res.body, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers 415 for a compressed body', async () => {
    const res = await t.http().post(LOGIN).set('Content-Type', 'application/json').set('Content-Encoding', 'gzip').send('{}');
    expect(res.status).toBe(415);
  });

  it('on the /oauth/* routes, which take a form as well, the refusal names both media types; elsewhere JSON only', async () => {
    const bodies: Array<[string | null, string]> = [
      [null, 'grant_type=client_credentials'],
      ['text/plain', 'grant_type=client_credentials'],
      ['application/json; charset=latin1', '{"grant_type":"client_credentials"}'],
      ['application/x-www-form-urlencoded; charset=latin1', 'grant_type=client_credentials'],
      ['application/x-www-form-urlencoded', 'grant_type=client_credentials'], // compressed, below
    ];
    for (const path of ['/oauth/token', '/oauth/introspect', '/oauth/revoke']) {
      for (const [i, [type, body]] of bodies.entries()) {
        const req = t.http().post(path);
        if (type !== null) req.set('Content-Type', type);
        if (i === bodies.length - 1) req.set('Content-Encoding', 'gzip');
        const res = await req.send(Buffer.from(body));
        expect({ path, type, status: res.status, body: res.body }).toEqual({
          path,
          type,
          status: 400,
          body: { error: 'invalid_request', error_description: 'The body must be application/x-www-form-urlencoded or application/json, in UTF-8.' },
        });
      }
    }
    const login = await t.http().post(LOGIN).set('Content-Type', 'text/plain').send('{}');
    expect(expectErrorEnvelope(login.body, 'UNSUPPORTED_MEDIA_TYPE').message).toBe('The body must be application/json in UTF-8.');
  });

  it('accepts application/json with charset=utf-8 (any case) and reaches validation', async () => {
    const res = await t.http().post(LOGIN).set('Content-Type', 'Application/JSON; Charset=UTF-8').send('{"password":"x"}');
    expect(res.status).toBe(400);
    expectErrorEnvelope(res.body, 'VALIDATION_ERROR');
  });

  it('answers 413 for a 20 KiB body (declared length) without a 500', async () => {
    const big = JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(20 * 1024) });
    const res = await t.http().post(LOGIN).set('Content-Type', 'application/json').send(big);
    expect(res.status).toBe(413);
    expectErrorEnvelope(res.body, 'PAYLOAD_TOO_LARGE');
    expect(res.headers['connection']).toBe('close');
  });

  it('accepts a body just under the limit', async () => {
    const small = await buildTestApp({ bodyLimitBytes: 64 });
    const body = JSON.stringify({ email: 'a@b.c', password: 'p'.repeat(30) });
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(64);
    const res = await small.http().post(LOGIN).set('Content-Type', 'application/json').send(body);
    expect(res.status).toBe(401);
    expectErrorEnvelope(res.body, 'INVALID_CREDENTIALS');
  });

  it('answers 413 for a 1 MB body streamed without Content-Length, and stops reading early', async () => {
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('request hung')), 10_000);
    });
    const result = await Promise.race([streamWithoutLength(t, 1024 * 1024), hung]).finally(() => clearTimeout(timer));
    expect(result.status).toBe(413);
    // The server closed the connection instead of draining the megabyte.
    expect(result.serverBytesRead).toBeGreaterThan(16 * 1024);
    expect(result.serverBytesRead).toBeLessThan(512 * 1024);
  });

  it('answers 400 (not 500, no stack overflow) for JSON nested 10,000 levels deep', async () => {
    const roomy = await buildTestApp({ bodyLimitBytes: 1024 * 1024 });
    const deep = `{"email":${'['.repeat(10_000)}${']'.repeat(10_000)},"password":"x"}`;
    const res = await roomy.http().post(LOGIN).set('Content-Type', 'application/json').send(deep);
    expect(res.status).toBe(400);
    expect(expectErrorEnvelope(res.body, 'VALIDATION_ERROR').details).toEqual({ body: [expect.stringContaining('32')] });
  });

  it('refuses a body of more than 256 values in all, before the validator walks it (a review, stop 65)', async () => {
    const roomy = await buildTestApp({ bodyLimitBytes: 1024 * 1024 });
    const wide = (n: number) => JSON.stringify({ email: Array.from({ length: n }, () => ({})), password: 'x' });
    // 256 in all (the array, its 253 items, the password) reaches validation: 400 on the field.
    const ok = await roomy.http().post(LOGIN).set('Content-Type', 'application/json').send(wide(254));
    expect(expectErrorEnvelope(ok.body, 'VALIDATION_ERROR').details).toHaveProperty('email');
    const tooWide = await roomy.http().post(LOGIN).set('Content-Type', 'application/json').send(wide(30_000));
    expect(tooWide.status).toBe(400);
    expect(expectErrorEnvelope(tooWide.body, 'VALIDATION_ERROR').details).toEqual({ body: ['must not hold more than 256 values'] });
    // As many unknown members: one error, not one per member.
    const members = Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`m${i}`, 0]));
    const manyKeys = await roomy.http().post(LOGIN).set('Content-Type', 'application/json').send(JSON.stringify(members));
    expect(expectErrorEnvelope(manyKeys.body, 'VALIDATION_ERROR').details).toEqual({ body: ['must not hold more than 256 values'] });
  });

  it('accepts 32 levels and rejects 33', async () => {
    const nest = (levels: number) => `{"email":${'['.repeat(levels - 1)}${']'.repeat(levels - 1)},"password":"x"}`;
    const ok = await t.http().post(LOGIN).set('Content-Type', 'application/json').send(nest(32));
    expect(ok.status).toBe(400);
    expect(expectErrorEnvelope(ok.body, 'VALIDATION_ERROR').details).toHaveProperty('email');
    const tooDeep = await t.http().post(LOGIN).set('Content-Type', 'application/json').send(nest(33));
    expect(tooDeep.status).toBe(400);
    expect(expectErrorEnvelope(tooDeep.body, 'VALIDATION_ERROR').details).toHaveProperty('body');
  });

  it.each(['[]', '"text"', '42', 'null', 'true'])('answers 400 VALIDATION_ERROR when the top level is %s', async (body) => {
    const res = await t.http().post(LOGIN).set('Content-Type', 'application/json').send(body);
    expect(res.status).toBe(400);
    expect(expectErrorEnvelope(res.body, 'VALIDATION_ERROR').details).toEqual({ body: ['must be a JSON object'] });
  });

  it('answers 400 MALFORMED_JSON for an empty body on a route with required fields', async () => {
    const res = await t.http().post(LOGIN).set('Content-Type', 'application/json').send('');
    expect(res.status).toBe(400);
    expectErrorEnvelope(res.body, 'MALFORMED_JSON');
  });

  it('rejects a nested __proto__ key', async () => {
    const res = await t.http().post(LOGIN).set('Content-Type', 'application/json').send('{"email":{"__proto__":{"x":1}},"password":"x"}');
    expect(res.status).toBe(400);
    expectErrorEnvelope(res.body, 'VALIDATION_ERROR');
  });
});

/**
 * Outside review (2026-12-02): a client that hangs up while the chain awaits something before the body (the per-IP
 * limit's Redis round trip, a token check) has its request destroyed and 'close' emitted before readLimited listens,
 * so it waited forever: the handler never returned, the server held it in its in-flight set, nothing was logged.
 */
describe('readLimited on a request whose client has gone', () => {
  it('rejects at once (400, aborted) instead of waiting for events that already fired, for a complete and a partial body', async () => {
    for (const [label, raw] of [
      ['complete body', 'POST /x HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}'],
      ['partial body', 'POST /x HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{"a'],
    ] as const) {
      let client: Socket | undefined;
      const outcome = await new Promise<string>((resolve, reject) => {
        const server = http.createServer((req) => {
          // As a handler awaiting a rate limit does: the body is asked for only after the client has gone.
          req.once('close', () =>
            setImmediate(() => {
              const hung = setTimeout(() => finish('hung'), 2_000);
              const finish = (value: string) => {
                clearTimeout(hung);
                server.close(() => resolve(value));
              };
              readLimited(req, 1024).then(
                () => finish('resolved'),
                (error: Error & { code?: string }) => finish(`${error.code ?? 'error'}: ${error.message}`),
              );
            }),
          );
        });
        server.on('error', reject);
        server.listen(0, '127.0.0.1', () => {
          const socket = connect((server.address() as AddressInfo).port, '127.0.0.1', () => socket.end(raw));
          socket.on('error', () => undefined);
          client = socket;
        });
      });
      // Half-closed by end(): without this it outlived the suite (a handle left open in the jest process).
      client?.destroy();
      expect({ label, outcome }).toEqual({ label, outcome: 'BAD_REQUEST: The request was aborted.' });
    }
  });
});
