import { CreateAdmin } from '@application/admin/create-admin';
import { type TestApp, MODES, NO_RATE_LIMITS, startSecureApp } from '../support/app';

const PASSWORD = 'correct horse battery staple';

/**
 * Each of these is not one mailbox, and a mailer parsing it as an address list delivers to x@evil.test: whoever
 * holds that inbox could "verify" or reset an address they do not own. The last two become specials only under
 * NFKC (fullwidth comma, fullwidth angle brackets), so they prove validation runs after canonicalisation.
 */
const CRAFTED = [
  'x@evil.test(example.com)',
  'b<x@evil.test>',
  'x@evil.test,example.com',
  'x@evil.test;example.com',
  'Bob <x@evil.test>',
  'x@evil.test example.com',
  'x@evil.test\uff0cexample.com',
  '\uff1cx@evil.test\uff1e',
  // Quoted, yet the mail library turns < > into spaces: RCPT TO:<" x@evil.test "@example.com>, another mailbox.
  '"<x@evil.test>"@example.com',
  '"a\\<b"@example.com',
  '"\uff1cx\uff1e"@example.com',
];

describe.each(MODES)('email addresses that are not one mailbox (%s)', (mode) => {
  let t: TestApp;
  let access: string;

  beforeAll(async () => {
    t = await startSecureApp(mode, NO_RATE_LIMITS);
    await t.http.post('/api/v1/auth/register').send({ email: 'alice@example.com', password: PASSWORD }).expect(202);
    await t.waitForMail('alice@example.com');
    await t.http.post('/api/v1/auth/verify').send({ token: t.lastMailedToken('alice@example.com') }).expect(200);
    await t.app.container.get(CreateAdmin).execute({ email: 'alice@example.com', password: PASSWORD });
    access = (await t.http.post('/api/v1/auth/login').send({ email: 'alice@example.com', password: PASSWORD }).expect(200)).body.data.tokens.access_token;
  }, 60_000);
  afterAll(async () => t?.stop());

  const expectEmailRejected = (response: { status: number; body: { error?: { code?: string; details?: Record<string, unknown> } } }) => {
    expect({ status: response.status, code: response.body.error?.code }).toEqual({ status: 400, code: 'VALIDATION_ERROR' });
    expect(response.body.error?.details?.email).toEqual([expect.any(String)]);
  };

  it.each(CRAFTED)('register, resend, reset request, credentials change and admin invite refuse %p with 400 VALIDATION_ERROR', async (crafted) => {
    expectEmailRejected(await t.http.post('/api/v1/auth/register').send({ email: crafted, password: PASSWORD }));
    expectEmailRejected(await t.http.post('/api/v1/auth/verify/resend').send({ email: crafted }));
    expectEmailRejected(await t.http.post('/api/v1/auth/password/reset').send({ email: crafted }));
    expectEmailRejected(
      await t.http.put('/api/v1/users/me/credentials').set({ Authorization: `Bearer ${access}` }).send({ current_password: PASSWORD, email: crafted }),
    );
    expectEmailRejected(await t.http.post('/api/v1/admin/users').set({ Authorization: `Bearer ${access}` }).send({ email: crafted }));
  });

  it('stores none of them and mails nobody at evil.test', async () => {
    const rows: { email: string }[] = await t.app.infra.dataSource.query('SELECT email FROM users');
    expect(rows.map((r) => r.email)).toEqual(['alice@example.com']);
    const queued: { recipient: string }[] = await t.app.infra.dataSource.query('SELECT recipient FROM email_outbox');
    expect(queued.map((r) => r.recipient).filter((to) => to.includes('evil'))).toEqual([]);
    expect(t.mailer.sent.filter((m) => m.to.includes('evil'))).toEqual([]);
    const me = await t.http.get('/api/v1/users/me').set({ Authorization: `Bearer ${access}` }).expect(200);
    expect(me.body.data.user.email).toBe('alice@example.com');
  });

  it('a login identifier that is not one mailbox matches no account, even one stored before this check', async () => {
    await t.http.post('/api/v1/auth/register').send({ email: 'legacy@example.com', password: PASSWORD }).expect(202);
    await t.waitForMail('legacy@example.com');
    await t.http.post('/api/v1/auth/verify').send({ token: t.lastMailedToken('legacy@example.com') }).expect(200);
    // An address accepted by the old, looser check, written as it was then stored.
    await t.app.infra.dataSource.query(`UPDATE users SET email = 'legacy@example.com(x)' WHERE email = 'legacy@example.com'`);
    for (const identifier of ['legacy@example.com(x)', 'LEGACY@example.com(X)']) {
      const login = await t.http.post('/api/v1/auth/login').send({ email: identifier, password: PASSWORD });
      expect({ identifier, status: login.status, code: login.body.error?.code }).toEqual({ identifier, status: 401, code: 'INVALID_CREDENTIALS' });
    }
    // The same answer as for an unknown account: nothing tells the caller the syntax was the reason.
    const unknown = await t.http.post('/api/v1/auth/login').send({ email: 'nobody@example.com', password: PASSWORD });
    const crafted = await t.http.post('/api/v1/auth/login').send({ email: CRAFTED[0], password: PASSWORD });
    expect(crafted.body.error).toEqual(unknown.body.error);
    expect(crafted.status).toBe(unknown.status);
  });

  it('accepts the mailboxes RFC 5321 allows: quoted local parts and internationalised domains', async () => {
    for (const [typed, stored] of [
      ['"john doe"@example.com', '"john doe"@example.com'],
      ['"Carol"@Example.com', 'carol@example.com'],
      ['user@BÜCHER.example', 'user@bücher.example'],
    ] as const) {
      await t.http.post('/api/v1/auth/register').send({ email: typed, password: PASSWORD }).expect(202);
      const mail = await t.waitForMail(stored);
      expect(mail.to).toBe(stored);
    }
    // A quoted spelling of a mailbox is that mailbox: it logs in to the account, it is not a second one.
    await t.http.post('/api/v1/auth/verify').send({ token: t.lastMailedToken('carol@example.com') }).expect(200);
    await t.http.post('/api/v1/auth/login').send({ email: '"carol"@example.com', password: PASSWORD }).expect(200);
  });
});
