import { type TestApp, MODES, startSecureApp } from '../support/app';

/** Per-IP login quota 2/min; the test client is a trusted proxy, so each request speaks from its forwarded address. */
const ENV = { TRUSTED_PROXIES: '127.0.0.1,::1', RATE_LIMIT_LOGIN_IP: '2/1m', RATE_LIMIT_LOGIN_ID: 'off', LOCKOUT_THRESHOLD: '1000' };

describe.each(MODES)('per-IP limits count an IPv6 client by its network (%s)', (mode) => {
  let t: TestApp;
  let narrow: TestApp;
  beforeAll(async () => {
    t = await startSecureApp(mode, ENV);
    narrow = await startSecureApp(mode, { ...ENV, RATE_LIMIT_IPV6_PREFIX: '128' });
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await narrow?.stop();
  });

  let n = 0;
  const login = (app: TestApp, from: string) =>
    app.http.post('/api/v1/auth/login').set('X-Forwarded-For', from).send({ email: `nobody${(n += 1)}@example.com`, password: 'wrong guess' });

  it('two addresses of one /64 share a quota; another /64 has its own', async () => {
    await login(t, '2001:db8:aaaa:1::1').expect(401);
    await login(t, '2001:db8:aaaa:1:ffff:ffff:ffff:fffe').expect(401);
    const refused = await login(t, '2001:db8:aaaa:1::dead:beef');
    expect([refused.status, refused.body.error?.code]).toEqual([429, 'RATE_LIMITED']);
    await login(t, '2001:db8:aaaa:2::1').expect(401);
  });

  it('an IPv4-mapped address shares the quota of the IPv4 address', async () => {
    await login(t, '198.51.100.20').expect(401);
    await login(t, '::ffff:198.51.100.20').expect(401);
    expect((await login(t, '198.51.100.20')).status).toBe(429);
    await login(t, '198.51.100.21').expect(401);
  });

  it('RATE_LIMIT_IPV6_PREFIX=128 counts single addresses again', async () => {
    await login(narrow, '2001:db8:bbbb:1::1').expect(401);
    await login(narrow, '2001:db8:bbbb:1::1').expect(401);
    expect((await login(narrow, '2001:db8:bbbb:1::1')).status).toBe(429);
    await login(narrow, '2001:db8:bbbb:1::2').expect(401);
  });
});
