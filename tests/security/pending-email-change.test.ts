import { type TestApp, PASSWORD, signUp, MODES, NO_RATE_LIMITS, startSecureApp } from '../support/app';

const NEW_PASSWORD = 'a new and unusual passphrase';

/**
 * Finding 3 of the hardening review: someone who once had the password (and a session) asks to move the login
 * email to their own address; the owner takes the account back with a reset, a password change or a global
 * logout. The emailed change link must be dead afterwards, like every other link mailed before, and the owner
 * must hear of the change when it is requested, not only when it takes effect.
 */
describe.each(MODES)('a pending email change does not survive the owner taking the account back (%s)', (mode) => {
  let t: TestApp;
  let n = 0;

  beforeAll(async () => {
    t = await startSecureApp(mode, NO_RATE_LIMITS);
  }, 60_000);
  afterAll(async () => t?.stop());

  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  const tokenIn = (text: string, path: string) => new RegExp(`${path}\\?token=([A-Za-z0-9_-]+)`).exec(text)?.[1];

  /** The owner's account, and the attacker's request to move it to their own address. */
  async function hijackAttempt() {
    n += 1;
    const owner = `owner-${mode}-${n}@example.com`;
    const attacker = `attacker-${mode}-${n}@example.com`;
    const { tokens } = await signUp(t, owner);
    await t.http.put('/api/v1/users/me/credentials').set(bearer(tokens.access_token)).send({ current_password: PASSWORD, email: attacker }).expect(200);
    const link = tokenIn((await t.waitForMail(attacker)).text, 'verify-email')!;
    return { owner, attacker, tokens, link };
  }

  /** Asks for a reset link and returns its token (other mails, e.g. the change notice, may come in between). */
  async function resetLink(owner: string): Promise<string> {
    const before = t.mailer.inbox(owner).length;
    await t.http.post('/api/v1/auth/password/reset').send({ email: owner }).expect(202);
    for (let n = before + 1; ; n += 1) {
      const token = tokenIn((await t.waitForMail(owner, n)).text, 'reset-password');
      if (token) return token;
    }
  }

  async function expectLinkDead(owner: string, attacker: string, link: string, ownerPassword: string) {
    const redeemed = await t.http.post('/api/v1/auth/verify').send({ token: link });
    expect([redeemed.status, redeemed.body.error?.code]).toEqual([400, 'INVALID_OR_EXPIRED_TOKEN']);
    expect((await t.http.post('/api/v1/auth/login').send({ email: attacker, password: ownerPassword })).status).toBe(401);
    const me = await t.http.post('/api/v1/auth/login').send({ email: owner, password: ownerPassword }).expect(200);
    expect(me.body.data.user).toMatchObject({ email: owner });
  }

  it('tells the current address when a change is requested', async () => {
    const { owner, attacker } = await hijackAttempt();
    const notice = await t.waitForMail(owner, 2);
    expect(notice.subject).toMatch(/change of your email address/i);
    expect(notice.text).toContain(attacker);
    expect(notice.text).toMatch(/reset your password/i);
    expect(notice.to).toBe(owner);
  });

  it('a password reset voids the pending change and its link', async () => {
    const { owner, attacker, link } = await hijackAttempt();
    const reset = await resetLink(owner);
    await t.http.post('/api/v1/auth/password/confirm').send({ token: reset, new_password: NEW_PASSWORD }).expect(200);
    await expectLinkDead(owner, attacker, link, NEW_PASSWORD);
  });

  it('a password change voids the pending change and every link mailed before', async () => {
    const { owner, attacker, link, tokens } = await hijackAttempt();
    const reset = await resetLink(owner);
    await t.http.put('/api/v1/auth/password/change').set(bearer(tokens.access_token)).send({ current_password: PASSWORD, new_password: NEW_PASSWORD }).expect(200);
    await expectLinkDead(owner, attacker, link, NEW_PASSWORD);
    const stale = await t.http.post('/api/v1/auth/password/confirm').send({ token: reset, new_password: 'yet another unusual passphrase' });
    expect([stale.status, stale.body.error?.code]).toEqual([400, 'INVALID_OR_EXPIRED_TOKEN']);
  });

  it('a global logout voids the pending change and its link', async () => {
    const { owner, attacker, link, tokens } = await hijackAttempt();
    await t.http.post('/api/v1/auth/logout').set(bearer(tokens.access_token)).send({ scope: 'global' }).expect(200);
    await expectLinkDead(owner, attacker, link, PASSWORD);
  });

  it('without any of those, the change still works (the feature is intact)', async () => {
    const { attacker, link } = await hijackAttempt();
    await t.http.post('/api/v1/auth/verify').send({ token: link }).expect(200);
    await t.http.post('/api/v1/auth/login').send({ email: attacker, password: PASSWORD }).expect(200);
  });

  it('once the change is confirmed, a reset link mailed to the old address no longer opens the account', async () => {
    const { owner, attacker, link } = await hijackAttempt();
    const reset = await resetLink(owner);
    await t.http.post('/api/v1/auth/verify').send({ token: link }).expect(200);
    const stale = await t.http.post('/api/v1/auth/password/confirm').send({ token: reset, new_password: NEW_PASSWORD });
    expect([stale.status, stale.body.error?.code]).toEqual([400, 'INVALID_OR_EXPIRED_TOKEN']);
    await t.http.post('/api/v1/auth/login').send({ email: attacker, password: PASSWORD }).expect(200);
    expect((await t.http.post('/api/v1/auth/login').send({ email: attacker, password: NEW_PASSWORD })).status).toBe(401);
  });
});
