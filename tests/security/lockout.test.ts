import type { Response } from 'supertest';
import { type TestApp, MODES, startSecureApp } from '../support/app';
import { elapseAppLockouts } from '../support/redis-elapse';
import { within } from '../support/within';

const PASSWORD = 'correct horse battery staple';

/** What a client can compare between two answers: status, body without meta, headers without per-request ones. */
function visible(response: Response) {
  const { date: _date, 'x-request-id': _id, ...headers } = response.headers as Record<string, string>;
  // The seconds left in a rate-limit window move with the wall clock (Redis), not with the account.
  if (headers.ratelimit) headers.ratelimit = headers.ratelimit.replace(/;t=\d+$/, ';t=…');
  const { meta: _meta, ...body } = response.body as Record<string, unknown>;
  return { status: response.status, body, headers };
}

describe.each(MODES)('per-identifier lockout through HTTP (%s)', (mode) => {
  let t: TestApp;

  beforeAll(async () => {
    // Behind a trusted proxy (the test client): a comparison speaks from two addresses with the same history, the
    // per-IP quota being the one the RateLimit headers report.
    t = await startSecureApp(mode, { TRUSTED_PROXIES: '127.0.0.1,::1' });
    for (const email of ['alice@example.com', 'carol@example.com']) {
      await t.http.post('/api/v1/auth/register').send({ email, password: PASSWORD }).expect(202);
      await t.waitForMail(email);
      await t.http.post('/api/v1/auth/verify').send({ token: t.lastMailedToken(email) }).expect(200);
    }
  }, 60_000);
  afterAll(async () => t?.stop());

  const login = (email: string, password: string, from?: string) =>
    from === undefined ? t.http.post('/api/v1/auth/login').send({ email, password }) : t.http.post('/api/v1/auth/login').set('X-Forwarded-For', from).send({ email, password });

  /** The token of the reset link mailed to `to` (other mails, e.g. a lockout notice, may come in between). */
  async function resetToken(to: string): Promise<string> {
    for (let n = 1; ; n += 1) {
      const match = /reset-password\?token=([A-Za-z0-9_-]+)/.exec((await t.waitForMail(to, n)).text);
      if (match) return match[1]!;
    }
  }

  it('5 failures lock for 15 minutes with the same answer, headers included, for an existing and an unknown account', async () => {
    for (let i = 0; i < 5; i += 1) {
      const [known, unknown] = [await login('alice@example.com', 'wrong guess', '198.51.100.1'), await login('mallory@example.com', 'wrong guess', '198.51.100.2')];
      expect(visible(unknown)).toEqual(visible(known));
      expect(known.status).toBe(401);
    }
    const known = await login('alice@example.com', PASSWORD, '198.51.100.1');
    const unknown = await login('mallory@example.com', PASSWORD, '198.51.100.2');
    expect(visible(unknown)).toEqual(visible(known));
    // Counted on Redis's clock in servers mode, which goes on while the test runs.
    expect([known.status, known.body.error.code, Number(known.headers['retry-after'])]).toEqual([429, 'ACCOUNT_LOCKED', within(895, 900)]);
    expect(known.body.error.message).not.toMatch(/alice|exist|unknown/i);
  });

  it('a locked account can still ask for a password reset, and the reset ends the lock', async () => {
    for (let i = 0; i < 5; i += 1) await login('carol@example.com', 'wrong guess').expect(401);
    await login('carol@example.com', PASSWORD).expect(429);
    await t.http.post('/api/v1/auth/password/reset').send({ email: 'carol@example.com' }).expect(202);
    const token = await resetToken('carol@example.com');
    const fresh = 'a new and unusual passphrase';
    await t.http.post('/api/v1/auth/password/confirm').send({ token, new_password: fresh }).expect(200);
    await login('carol@example.com', fresh).expect(200);
  });

  it('the lock ends after its time, and the next one lasts twice as long', async () => {
    t.clock.advance(900);
    await elapseAppLockouts(t, 900); // Redis goes by its own clock (TIME): the same 900 s pass there
    for (let i = 0; i < 5; i += 1) await login('alice@example.com', 'wrong guess').expect(401);
    const again = await login('alice@example.com', PASSWORD);
    expect([again.status, Number(again.headers['retry-after'])]).toEqual([429, within(1795, 1800)]);
  });
});
