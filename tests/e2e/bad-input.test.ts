import { startTestApp, type TestApp } from '../support/app';

describe('bad input gets the contract codes, never a 500', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  }, 60_000);
  afterAll(async () => t.stop());

  const post = (path: string) => t.http.post(`/api/v1/auth/${path}`);

  it.each([
    ['malformed JSON', () => post('login').set('Content-Type', 'application/json').send('{"email": "a@b.c",'), 400, 'MALFORMED_JSON'],
    ['wrong content type', () => post('login').set('Content-Type', 'text/plain').send('email=a'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['unknown field at register', () => post('register').send({ email: 'x@example.com', password: 'long enough pw', role: 'admin' }), 400, 'VALIDATION_ERROR'],
    ['status at register', () => post('register').send({ email: 'x@example.com', password: 'long enough pw', email_verified: true }), 400, 'VALIDATION_ERROR'],
    ['oversized body', () => post('register').send({ email: 'x@example.com', password: 'p'.repeat(20_000) }), 413, 'PAYLOAD_TOO_LARGE'],
    ['wrong types', () => post('login').send({ email: 123, password: ['x'] }), 400, 'VALIDATION_ERROR'],
    ['operator object', () => post('login').send({ email: { $ne: null }, password: 'x' }), 400, 'VALIDATION_ERROR'],
    ['deep nesting', () => post('login').set('Content-Type', 'application/json').send(`${'['.repeat(5_000)}${']'.repeat(5_000)}`), 400, 'VALIDATION_ERROR'],
    ['10,000-deep nesting (over the size limit)', () => post('login').set('Content-Type', 'application/json').send(`{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}`), 413, 'PAYLOAD_TOO_LARGE'],
    ['array body', () => post('login').send([1, 2]), 400, undefined],
    ['unknown route', () => t.http.get('/api/v1/nope'), 404, 'ROUTE_NOT_FOUND'],
    ['wrong method', () => t.http.get('/api/v1/auth/login'), 405, 'METHOD_NOT_ALLOWED'],
    ['missing bearer', () => t.http.get('/api/v1/users/me'), 401, 'UNAUTHENTICATED'],
    ['garbage bearer', () => t.http.get('/api/v1/users/me').set('Authorization', 'Bearer ' + 'x'.repeat(9000)), 401, 'INVALID_TOKEN'],
    ['refresh with garbage', () => post('refresh').send({ refresh_token: "' OR 1=1 --" }), 401, 'INVALID_REFRESH_TOKEN'],
    ['verify with garbage', () => post('verify').send({ token: "'; DROP TABLE users; --" }), 400, 'INVALID_OR_EXPIRED_TOKEN'],
  ] as const)('%s', async (_name, send, status, code) => {
    const response = await send();
    expect(response.status).toBe(status);
    expect(response.body.success).toBe(false);
    if (code) expect(response.body.error.code).toBe(code);
    expect(JSON.stringify(response.body)).not.toMatch(/at .*\.ts:|SELECT|node_modules/);
  });

  it('still serves after all of that', async () => {
    await t.http.get('/health/ready').expect(200);
  });
});
