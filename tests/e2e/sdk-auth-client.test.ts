import { AuthClient, AuthError, type Tokens } from '../../src/sdk';
import { MODES, NO_RATE_LIMITS, PASSWORD, startSecureApp, type Mode, type TestApp } from '../support/app';
import { TcpProxy } from '../support/tcp-proxy';
import { countingFetch, FakeClock } from '../unit/sdk/support';

/** The SDK's AuthClient against the whole service, listening on a real port. */
describe.each<Mode>(MODES)('SDK AuthClient against the service (%s)', (mode) => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await startSecureApp(mode, NO_RATE_LIMITS);
    base = `http://127.0.0.1:${await t.app.listen()}`;
  }, 60_000);
  afterAll(async () => t?.stop());

  /** register -> verify (mailed link) -> login, through the SDK. */
  const signUp = async (client: AuthClient, email: string): Promise<Tokens> => {
    await client.register({ email, password: PASSWORD });
    await t.waitForMail(email);
    await client.verifyEmail({ token: t.lastMailedToken(email) });
    const login = await client.login({ email, password: PASSWORD });
    if (!('tokens' in login)) throw new Error('unexpected MFA step');
    return login.tokens;
  };

  it('register -> verify -> login -> me -> validate -> refresh -> logout, typed', async () => {
    const client = new AuthClient({ baseUrl: base });
    await expect(client.register({ email: 'sdk-walk@example.com', password: PASSWORD, first_name: 'Sdk' })).resolves.toEqual({ message: expect.any(String) });
    await t.waitForMail('sdk-walk@example.com');
    const verified = await client.verifyEmail({ token: t.lastMailedToken('sdk-walk@example.com') });
    expect(verified.user).toMatchObject({ email: 'sdk-walk@example.com', status: 'active', email_verified: true, first_name: 'Sdk' });
    const login = await client.login({ email: 'sdk-walk@example.com', password: PASSWORD });
    if (!('tokens' in login)) throw new Error('unexpected MFA step');
    expect(login.tokens).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
    expect((await client.me(login.tokens.access_token)).user.id).toBe(login.user.id);
    await expect(client.validate(login.tokens.access_token)).resolves.toMatchObject({ valid: true, user: { id: login.user.id } });
    const { tokens } = await client.refresh({ refresh_token: login.tokens.refresh_token });
    expect(tokens.refresh_token).not.toBe(login.tokens.refresh_token);
    await expect(client.logout(tokens.access_token, { scope: 'global' })).resolves.toEqual({ message: expect.any(String) });
    await expect(client.me(tokens.access_token)).rejects.toMatchObject({ name: 'AuthError', code: 'INVALID_TOKEN', status: 401 });
    await expect(client.refresh({ refresh_token: tokens.refresh_token })).rejects.toMatchObject({ code: 'INVALID_REFRESH_TOKEN', status: 401 });
  });

  it('refusals carry the contract code and status', async () => {
    const client = new AuthClient({ baseUrl: base });
    await signUp(client, 'sdk-codes@example.com');
    await expect(client.login({ email: 'sdk-codes@example.com', password: 'wrong password here' })).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS', status: 401 });
    const invalid = (await client.register({ email: 'not-an-email', password: PASSWORD }).catch((e: unknown) => e)) as AuthError;
    expect(invalid).toBeInstanceOf(AuthError);
    expect(invalid).toMatchObject({ code: 'VALIDATION_ERROR', status: 400, details: { email: expect.any(Array) }, requestId: expect.any(String) });
    await expect(client.me('garbage')).rejects.toMatchObject({ code: 'INVALID_TOKEN', status: 401 });
    await expect(client.verifyEmail({ token: 'x'.repeat(43) })).rejects.toMatchObject({ code: 'INVALID_OR_EXPIRED_TOKEN', status: 400 });
  });

  it('session: 10 concurrent 401s refresh once and all succeed, round after round', async () => {
    const fetch = countingFetch();
    const client = new AuthClient({ baseUrl: base, fetch });
    const first = await signUp(client, 'sdk-session@example.com');
    const seen: Tokens[] = [];
    const session = client.session(first, { onTokens: (tokens) => void seen.push(tokens) });
    for (let round = 1; round <= 3; round += 1) {
      t.clock.advance(16 * 60); // the access token (15 min) expired; the refresh token lives on
      const responses = await Promise.all(Array.from({ length: 10 }, () => session(`${base}/api/v1/users/me`)));
      expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
      expect(fetch.count('/api/v1/auth/refresh')).toBe(round);
      expect(seen).toHaveLength(round);
      expect(session.tokens).toBe(seen.at(-1));
    }
    expect(new Set(seen.map((s) => s.refresh_token)).size).toBe(3);
  });

  it('session: a 401 that is not about the token (a wrong current password) is answered as it came: no refresh, no second check', async () => {
    const fetch = countingFetch();
    const client = new AuthClient({ baseUrl: base, fetch });
    const tokens = await signUp(client, 'sdk-typo@example.com');
    const session = client.session(tokens);
    const body = JSON.stringify({ current_password: 'a typo of the password', new_password: 'another long passphrase 42' });
    const typo = await session(`${base}/api/v1/auth/password/change`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body });
    expect(typo.status).toBe(401);
    expect(typo.headers.has('www-authenticate')).toBe(false);
    expect(((await typo.json()) as { error: { code: string } }).error.code).toBe('INVALID_CREDENTIALS');
    expect(fetch.count('/api/v1/auth/password/change')).toBe(1);
    expect(fetch.count('/api/v1/auth/refresh')).toBe(0);
    expect(session.tokens).toBe(tokens);
    const activity = await session(`${base}/api/v1/users/me/activity`);
    const entries = ((await activity.json()) as { data: { events: { type: string; outcome: string }[] } }).data.events;
    expect(entries.filter((e) => e.type === 'password.changed').map((e) => e.outcome)).toEqual(['failure']);
  });

  it('session: once the session is over, the 401 comes back and no further refresh is tried', async () => {
    const fetch = countingFetch();
    const client = new AuthClient({ baseUrl: base, fetch });
    const tokens = await signUp(client, 'sdk-ended@example.com');
    await client.logout(tokens.access_token);
    const session = client.session(tokens);
    const refused = await Promise.all(Array.from({ length: 5 }, () => session(`${base}/api/v1/users/me`)));
    expect(refused.map((r) => r.status)).toEqual(Array(5).fill(401));
    expect(((await refused[0]!.json()) as { error: { code: string } }).error.code).toBe('INVALID_TOKEN');
    expect((await session(`${base}/api/v1/users/me`)).status).toBe(401);
    expect(fetch.count('/api/v1/auth/refresh')).toBe(1);
  });

  it('the circuit opens when the service cannot be reached and closes when it returns', async () => {
    const proxy = new TcpProxy('127.0.0.1', Number(new URL(base).port));
    await proxy.start();
    try {
      const clock = new FakeClock();
      const fetch = countingFetch();
      const client = new AuthClient({ baseUrl: `http://127.0.0.1:${proxy.port}`, fetch, retries: 0, breaker: { now: clock.now } });
      const tokens = await signUp(client, 'sdk-circuit@example.com');
      proxy.cut();
      for (let i = 0; i < 5; i += 1) await expect(client.me(tokens.access_token)).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE', status: 503 });
      const sent = fetch.total();
      await expect(client.me(tokens.access_token)).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE', details: { circuit: 'open' } });
      expect(fetch.total()).toBe(sent);
      proxy.restore();
      await expect(client.me(tokens.access_token)).rejects.toMatchObject({ details: { circuit: 'open' } });
      clock.advance(10);
      await expect(client.me(tokens.access_token)).resolves.toMatchObject({ user: { email: 'sdk-circuit@example.com' } });
      await expect(client.validate(tokens.access_token)).resolves.toMatchObject({ valid: true });
    } finally {
      await proxy.close();
    }
  });
});
