import { type TestApp, startSecureApp } from '../support/app';

const ORIGIN = 'https://app.example.com';
/** What the service really sends a browser client may need: the rate-limit pair, Retry-After, the request id, the bearer challenge. */
const EXPECTED = ['x-request-id', 'www-authenticate', 'retry-after', 'ratelimit-policy', 'ratelimit'];

const exposed = (header: string | undefined): string[] =>
  (header ?? '').split(',').map((name) => name.trim().toLowerCase()).filter((name) => name !== '').sort();

describe('CORS exposes the headers the service sends, and only those', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startSecureApp('embedded', { CORS_ORIGINS: ORIGIN, RATE_LIMIT_LOGIN_IP: '1/1m', RATE_LIMIT_LOGIN_ID: 'off' });
  }, 60_000);
  afterAll(async () => t?.stop());

  it('a rate-limited answer to an allowed origin lists exactly the sent names, and carries each of them', async () => {
    const login = () => t.http.post('/api/v1/auth/login').set('Origin', ORIGIN).send({ email: 'nobody@example.com', password: 'wrong guess' });
    await login().expect(401);
    const refused = await login();
    expect(refused.status).toBe(429);
    expect(refused.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(exposed(refused.headers['access-control-expose-headers'])).toEqual([...EXPECTED].sort());
    for (const name of ['x-request-id', 'retry-after', 'ratelimit-policy', 'ratelimit']) {
      expect({ name, value: refused.headers[name] }).toEqual({ name, value: expect.any(String) });
    }
    const challenged = await t.http.get('/api/v1/auth/validate').set('Origin', ORIGIN).expect(401);
    expect(challenged.headers['www-authenticate']).toBe('Bearer');
    expect(exposed(challenged.headers['access-control-expose-headers'])).toEqual([...EXPECTED].sort());
  });

  it('an origin that is not configured gets no CORS headers', async () => {
    const res = await t.http.get('/health/live').set('Origin', 'https://evil.example.com');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers['access-control-expose-headers']).toBeUndefined();
  });
});
