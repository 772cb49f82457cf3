import type { Response } from 'supertest';
import { resolve } from '@config/container';
import { PASSWORD, startTestApp, type TestApp } from '../support/app';
import { RegisterUser } from '@application/account/register-user';
import { VerifyEmail } from '@application/account/verify-email';

/** What may differ between two answers: the request id and the timestamps, nothing else. */
function comparable(res: Response) {
  const { date: _date, 'x-request-id': _requestId, ...headers } = res.headers as Record<string, string>;
  const body = structuredClone(res.body) as { meta?: Record<string, unknown> };
  if (body.meta) {
    delete body.meta['request_id'];
    delete body.meta['timestamp'];
  }
  return { status: res.status, body, headers };
}

/**
 * CONTRACT §3: register (verification required), resend and password reset answer an existing verified, an
 * existing unverified and an unknown address identically.
 */
describe('no account enumeration through register, verify/resend and password reset', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Behind a trusted proxy (the test client), each request from an address of its own: the RateLimit headers
    // report the per-IP quota, which would otherwise count down from one answer to the next.
    t = await startTestApp({ env: { TRUSTED_PROXIES: '127.0.0.1,::1' } });
    // Through the use cases, not HTTP: every address then has the same (empty) history with the rate limiter.
    const register = resolve(t.app.container, RegisterUser);
    const client = { ip: null, userAgent: null };
    await register.execute({ email: 'verified@example.com', password: PASSWORD, client });
    await register.execute({ email: 'unverified@example.com', password: PASSWORD, client });
    await register.execute({ email: 'holder@example.com', password: PASSWORD, username: 'taken_name', client });
    await register.execute({ email: 'bystander@example.com', password: PASSWORD, client });
    await t.waitForMail('holder@example.com');
    await t.waitForMail('verified@example.com');
    await resolve(t.app.container, VerifyEmail).execute({ token: t.lastMailedToken('verified@example.com') });
  }, 60_000);
  afterAll(async () => t?.stop());

  let round = 0;
  let client = 0;
  /** A client address the rate limiter has not seen yet. */
  const fromNewAddress = () => `198.51.100.${(client += 1)}`;
  /** A fresh unknown address per endpoint: registering one creates the account. */
  const emails = () => ['verified@example.com', 'unverified@example.com', `unknown-${(round += 1)}@example.com`];

  it.each([
    ['POST /auth/register', '/api/v1/auth/register', (email: string) => ({ email, password: 'some other passphrase' }), 202],
    ['POST /auth/verify/resend', '/api/v1/auth/verify/resend', (email: string) => ({ email }), 202],
    ['POST /auth/password/reset', '/api/v1/auth/password/reset', (email: string) => ({ email }), 202],
  ])('%s answers the same for verified, unverified and unknown addresses', async (_name, path, body, status) => {
    const answers = [];
    for (const email of emails()) {
      answers.push(comparable(await t.http.post(path).set('X-Forwarded-For', fromNewAddress()).set('X-Request-ID', `enum-${answers.length}`).send(body(email))));
    }
    expect(answers[0]!.status).toBe(status);
    expect(answers[0]!.body).toMatchObject({ success: true, data: { message: expect.any(String) }, meta: { version: 'v1' } });
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
  });

  it('a taken username answers 409 USERNAME_TAKEN alike for a new address, a registered one and its holder', async () => {
    const answers = [];
    for (const email of ['bystander@example.com', `unknown-${(round += 1)}@example.com`, 'holder@example.com']) {
      const body = { email, password: 'some other passphrase', username: 'Taken_Name' };
      answers.push(comparable(await t.http.post('/api/v1/auth/register').set('X-Forwarded-For', fromNewAddress()).set('X-Request-ID', `enum-${answers.length}`).send(body)));
    }
    expect(answers[0]).toMatchObject({ status: 409, body: { success: false, error: { code: 'USERNAME_TAKEN' } } });
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
  });

  it('the owners hear about it by email instead: "account exists" for register, a reset link for reset', async () => {
    await t.http.post('/api/v1/auth/register').send({ email: 'verified@example.com', password: 'yet another passphrase' }).expect(202);
    await t.http.post('/api/v1/auth/password/reset').send({ email: 'verified@example.com' }).expect(202);
    await t.waitForMail('verified@example.com', 5);
    // Sorted: emails queued in the same instant may be sent in either order.
    expect(t.mailer.inbox('verified@example.com').map((m) => m.subject).sort()).toEqual([
      'Reset your password',
      'Reset your password',
      'Verify your email address',
      'You already have an account',
      'You already have an account',
    ]);
    await t.http.post('/api/v1/auth/password/reset').send({ email: 'nobody@example.com' }).expect(202);
    await t.http.post('/api/v1/auth/verify/resend').send({ email: 'nobody@example.com' }).expect(202);
    const queued = await t.app.infra.dataSource.query('SELECT count(*)::int AS n FROM email_outbox WHERE recipient = $1', ['nobody@example.com']);
    expect(queued[0].n).toBe(0);
  });
});
