import request from 'supertest';
import { renderDocument } from '@interface/http/static-document';
import { buildTestApp, type TestApp } from './support/test-app';

const JWKS = '/.well-known/jwks.json';
const METADATA = '/.well-known/oauth-authorization-server';

/** What every response carries regardless of its route: helmet's headers as the general path sets them. */
const PER_RESPONSE = new Set(['x-request-id', 'cache-control', 'content-type', 'content-length', 'etag', 'date', 'connection', 'vary', 'pragma']);
const securityHeadersOf = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).filter(([name]) => !PER_RESPONSE.has(name)));

describe('JWKS and server metadata: precomputed bodies, ETag and 304', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp();
  });

  it('serves the JWKS bytes JSON.stringify gives, with a strong ETag, caching, content type and request id', async () => {
    const res = await t.http().get(JWKS).set('X-Request-ID', 'jwks-1').expect(200);
    expect(res.text).toBe(JSON.stringify(t.keys.jwks()));
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.headers['x-request-id']).toBe('jwks-1');
    expect(res.headers['etag']).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
    expect((await t.http().get(JWKS)).headers['etag']).toBe(res.headers['etag']);
  });

  it('parallel requests on one handler each get their own request id, with and without a body (304)', async () => {
    const served = t.app.callback(); // one handler, as a server has: the head lists are kept across requests
    const etag = (await request(served).get(JWKS).expect(200)).headers['etag'] as string;
    for (let round = 0; round < 5; round += 1) {
      const sent = Array.from({ length: 30 }, (_, i) => ({ id: `r${round}-${i}`, path: i % 3 === 0 ? METADATA : JWKS, cached: i % 2 === 0 }));
      const answers = await Promise.all(
        sent.map(({ id, path, cached }) => request(served).get(path).set({ 'X-Request-ID': id, ...(cached && path === JWKS ? { 'If-None-Match': etag } : {}) })),
      );
      expect(answers.map((r) => [r.headers['x-request-id'], r.status])).toEqual(sent.map(({ id, path, cached }) => [id, cached && path === JWKS ? 304 : 200]));
    }
  });

  it('serves the RFC 8414 metadata as before, byte for byte', async () => {
    const res = await t.http().get(METADATA).expect(200);
    const base = 'https://auth.example.com';
    const methods = ['client_secret_basic', 'client_secret_post'];
    expect(res.text).toBe(
      JSON.stringify({
        issuer: base,
        token_endpoint: `${base}/oauth/token`,
        jwks_uri: `${base}/.well-known/jwks.json`,
        introspection_endpoint: `${base}/oauth/introspect`,
        revocation_endpoint: `${base}/oauth/revoke`,
        grant_types_supported: ['client_credentials'],
        response_types_supported: [],
        token_endpoint_auth_methods_supported: methods,
        introspection_endpoint_auth_methods_supported: methods,
        revocation_endpoint_auth_methods_supported: methods,
        service_documentation: `${base}/docs`,
      }),
    );
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.headers['etag']).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
  });

  it.each([JWKS, METADATA])('%s carries exactly the security headers of a route on the general path', async (path) => {
    const general = await t.http().get('/health/live').expect(200);
    const fast = await t.http().get(path).expect(200);
    const expected = securityHeadersOf(general.headers as Record<string, string>);
    expect(Object.keys(expected)).toEqual(expect.arrayContaining(['content-security-policy', 'x-content-type-options', 'x-frame-options', 'strict-transport-security']));
    expect(securityHeadersOf(fast.headers as Record<string, string>)).toEqual(expected);
  });

  it.each([JWKS, METADATA])('%s answers If-None-Match naming its ETag with 304 and no body', async (path) => {
    const { headers } = await t.http().get(path).expect(200);
    const etag = headers['etag'] as string;
    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const res = await t.http().get(path).set('If-None-Match', ifNoneMatch);
      expect({ ifNoneMatch, status: res.status, text: res.text ?? '' }).toEqual({ ifNoneMatch, status: 304, text: '' });
      expect(res.headers['etag']).toBe(etag);
      expect(res.headers['cache-control']).toBe('public, max-age=300');
      expect(res.headers['x-request-id']).toEqual(expect.any(String));
    }
    for (const stale of ['"other"', etag.slice(0, -2) + '"', `${etag}x`]) {
      await t.http().get(path).set('If-None-Match', stale).expect(200);
    }
  });

  it('answers HEAD with the headers and no body', async () => {
    const get = await t.http().get(JWKS).expect(200);
    const head = await t.http().head(JWKS).expect(200);
    expect(head.text ?? '').toBe('');
    expect(head.headers['etag']).toBe(get.headers['etag']);
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(get.text)));
  });

  it('a rotation changes the body and the ETag at once; the old ETag gets the new key set', async () => {
    const before = await t.http().get(JWKS).expect(200);
    await t.keys.rotate();
    const after = await t.http().get(JWKS).expect(200);
    expect(after.headers['etag']).not.toBe(before.headers['etag']);
    expect(after.text).toBe(JSON.stringify(t.keys.jwks()));
    expect(after.body.keys.map((k: { kid: string }) => k.kid)).toContain(t.keys.activeKey().kid);
    const revalidated = await t.http().get(JWKS).set('If-None-Match', before.headers['etag'] as string).expect(200);
    expect(revalidated.text).toBe(after.text);
  });

  it('a retired key leaves the JWKS (and its ETag changes) once its last token expired, without a reload', async () => {
    const retiredKid = t.keys.activeKey().kid;
    await t.keys.rotate();
    const withRetired = await t.http().get(JWKS).expect(200);
    expect(withRetired.body.keys.map((k: { kid: string }) => k.kid)).toContain(retiredKid);
    t.clock.advance(900 + 60 + 61); // access-token lifetime + clock skew + the instances' key reload interval
    const without = await t.http().get(JWKS).expect(200);
    expect(without.body.keys.map((k: { kid: string }) => k.kid)).not.toContain(retiredKid);
    expect(without.headers['etag']).not.toBe(withRetired.headers['etag']);
  });

  it('labels the requests for the metrics with the route pattern', async () => {
    await t.http().get(JWKS).expect(200);
    await t.http().get(METADATA).expect(200);
    const { values } = await t.deps.metrics!.requestDurations.get();
    const routes = values.filter((v) => v.metricName === 'http_request_duration_seconds_count').map((v) => `${v.labels.route} ${v.labels.status}`);
    expect(routes).toEqual(expect.arrayContaining([`${JWKS} 200`, `${METADATA} 200`]));
  });

  it('leaves a query string to the router, which serves the same document', async () => {
    const fast = await t.http().get(JWKS).expect(200);
    const routed = await t.http().get(`${JWKS}?v=1`).expect(200);
    expect([routed.text, routed.headers['etag'], routed.headers['cache-control']]).toEqual([fast.text, fast.headers['etag'], fast.headers['cache-control']]);
  });

  it('answers 500 in the envelope, with a request id, when the key set cannot be read', async () => {
    t.jwksFault.fail = true;
    const res = await t.http().get(JWKS).set('X-Request-ID', 'jwks-down').expect(500);
    expect(res.body.error.code).toBe('INTERNAL_ERROR');
    expect(res.headers['x-request-id']).toBe('jwks-down');
    expect(res.text).not.toContain('signing keys unavailable');
    t.jwksFault.fail = false;
    await t.http().get(JWKS).expect(200);
  });

  it('writes one access-log line per request, with its request id, method, path, status and duration', async () => {
    await t.http().get(METADATA).set('X-Request-ID', 'meta-log').expect(200);
    const lines = t.logs.filter((line) => line.request_id === 'meta-log');
    expect(lines).toEqual([expect.objectContaining({ msg: 'request completed', method: 'GET', path: METADATA, status: 200, duration_ms: expect.any(Number) })]);
  });

  it('still refuses other methods (405) and leaves near-miss paths to the router (404)', async () => {
    const post = await t.http().post(JWKS).expect(405);
    expect(post.headers['allow']).toContain('GET');
    await t.http().get(`${JWKS}/x`).expect(404);
  });
});

describe('JWKS with CORS on', () => {
  it('a cross-origin request goes the general way and gets the CORS headers; others get Vary: Origin', async () => {
    const t = await buildTestApp({ corsOrigins: ['https://app.example.com'] });
    const cross = await t.http().get(JWKS).set('Origin', 'https://app.example.com').expect(200);
    expect(cross.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(cross.headers['vary']).toContain('Origin');
    const direct = await t.http().get(JWKS).expect(200);
    expect(direct.headers['vary']).toContain('Origin');
    expect(direct.headers['access-control-allow-origin']).toBeUndefined();
    expect(cross.text).toBe(direct.text);
    expect(cross.headers['etag']).toBe(direct.headers['etag']);
    await t.http().get(JWKS).set('Origin', 'https://app.example.com').set('If-None-Match', direct.headers['etag'] as string).expect(304);
  });
});

describe('renderDocument', () => {
  it('keeps an ASCII body as a string too (sent with the head in one write); a non-ASCII one only as UTF-8 bytes', () => {
    const ascii = renderDocument({ issuer: 'https://auth.example.com' }, 'public, max-age=300');
    expect(ascii.ascii).toBe('{"issuer":"https://auth.example.com"}');
    expect(Buffer.byteLength(ascii.ascii!)).toBe(ascii.body.length);
    const accented = renderDocument({ issuer: 'https://authé.example.com' }, 'public, max-age=300');
    expect(accented.ascii).toBeNull();
    expect(accented.body.toString('utf8')).toBe('{"issuer":"https://authé.example.com"}');
  });
});
