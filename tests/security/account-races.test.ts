import { PORTS } from '@application/ports/tokens';
import { OtpauthTotp } from '@infrastructure/security/otp/otpauth-totp';
import { type TestApp, PASSWORD, signUp, MODES, NO_LIMITS, startSecureApp, PRODUCTION_HASHING } from '../support/app';

const NEW_PASSWORD = 'a new and unusual passphrase';
const ROUNDS = 8;

/**
 * Findings 1 and 2 of the hardening review: a stale copy of the user row must never overwrite a newer one, and a
 * password checked against a copy read before a change must not open a session after it. Each test sends
 * parallel bursts, repeated; on the code before the fix they failed in most rounds (see the note).
 */
describe.each(MODES)('account state under concurrent requests (%s)', (mode) => {
  let t: TestApp;
  let n = 0;

  beforeAll(async () => {
    t = await startSecureApp(mode, { ...NO_LIMITS, ...PRODUCTION_HASHING });
  }, 60_000);
  afterAll(async () => t?.stop());

  const login = (email: string, password: string) => t.http.post('/api/v1/auth/login').send({ email, password });
  const validate = (access: string) => t.http.get('/api/v1/auth/validate').set('Authorization', `Bearer ${access}`);
  const fresh = (what: string) => `${what}-${mode}-${(n += 1)}@example.com`;

  async function resetLink(email: string): Promise<string> {
    const before = t.mailer.inbox(email).length;
    await t.http.post('/api/v1/auth/password/reset').send({ email }).expect(202);
    const mail = await t.waitForMail(email, before + 1);
    return /reset-password\?token=([A-Za-z0-9_-]+)/.exec(mail.text)![1]!;
  }

  it('a password reset is never undone by failed logins saving the row they read before it', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const email = fresh('reset-vs-failures');
      await signUp(t, email);
      const token = await resetLink(email);
      const [confirm, ...failures] = await Promise.all([
        t.http.post('/api/v1/auth/password/confirm').send({ token, new_password: NEW_PASSWORD }),
        ...Array.from({ length: 8 }, () => login(email, 'not the password')),
      ]);
      expect(confirm.status).toBe(200);
      expect(failures.map((r) => r.status)).toEqual(failures.map(() => 401));
      expect([round, (await login(email, NEW_PASSWORD)).status, (await login(email, PASSWORD)).status]).toEqual([round, 200, 401]);
    }
  }, 180_000);

  it('a password reset racing more reset requests leaves one consistent password', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const email = fresh('reset-vs-requests');
      await signUp(t, email);
      const token = await resetLink(email);
      const [confirm, ...requests] = await Promise.all([
        t.http.post('/api/v1/auth/password/confirm').send({ token, new_password: NEW_PASSWORD }),
        ...Array.from({ length: 4 }, () => t.http.post('/api/v1/auth/password/reset').send({ email })),
      ]);
      expect(requests.map((r) => r.status)).toEqual(requests.map(() => 202));
      // A newer request may void the link before it is used (400); then the old password stays. Never a mix.
      expect([200, 400]).toContain(confirm.status);
      const [works, fails] = confirm.status === 200 ? [NEW_PASSWORD, PASSWORD] : [PASSWORD, NEW_PASSWORD];
      expect([round, (await login(email, works)).status, (await login(email, fails)).status]).toEqual([round, 200, 401]);
    }
  }, 180_000);

  it('no session obtained with the old password outlives a password change', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const email = fresh('change-vs-logins');
      const { tokens } = await signUp(t, email);
      const [change, ...logins] = await Promise.all([
        t.http
          .put('/api/v1/auth/password/change')
          .set('Authorization', `Bearer ${tokens.access_token}`)
          .send({ current_password: PASSWORD, new_password: NEW_PASSWORD }),
        ...Array.from({ length: 20 }, () => login(email, PASSWORD)),
      ]);
      expect(change.status).toBe(200);
      for (const response of logins) {
        expect([200, 401]).toContain(response.status);
        if (response.status !== 200) continue;
        const got = response.body.data.tokens as { access_token: string; refresh_token: string };
        expect([round, (await validate(got.access_token)).status]).toEqual([round, 401]);
        await t.http.post('/api/v1/auth/refresh').send({ refresh_token: got.refresh_token }).expect(401);
      }
      // The session that made the change stays; the old password opens nothing.
      await validate(tokens.access_token).expect(200);
      expect((await login(email, PASSWORD)).status).toBe(401);
    }
  }, 240_000);

  it('a deleted account stays deleted: logins racing the deletion answer 200 or 401, never 500, and nothing survives', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const email = fresh('delete-vs-logins');
      const { tokens } = await signUp(t, email);
      const [deletion, ...logins] = await Promise.all([
        t.http.delete('/api/v1/users/me').set('Authorization', `Bearer ${tokens.access_token}`).send({ password: PASSWORD }),
        ...Array.from({ length: 8 }, () => login(email, 'not the password')),
        ...Array.from({ length: 4 }, () => login(email, PASSWORD)),
      ]);
      expect(deletion.status).toBe(200);
      for (const response of logins) {
        expect([round, [200, 401].includes(response.status)]).toEqual([round, true]);
        if (response.status === 200) await validate(response.body.data.tokens.access_token).expect(401);
      }
      expect([round, (await login(email, PASSWORD)).status]).toEqual([round, 401]);
      // The address is free again: a new registration is a new account, not the old one back.
      await t.http.post('/api/v1/auth/register').send({ email, password: NEW_PASSWORD }).expect(202);
      expect((await login(email, PASSWORD)).status).toBe(401);
    }
  }, 240_000);

  /**
   * An outside review (two instances, one database): TOTP enabled with a stolen access token racing the owner's
   * "log out everywhere" was answered 200 after the logout had committed (9 rounds in 12): every session ended
   * by the logout, and the thief's second factor (and its backup codes) left on the account. The enabling must
   * either commit first (it then ends the owner's session itself, reason mfa_enabled, and the logout ends the
   * thief's) or be refused.
   */
  it("TOTP enabled by a stolen token never lands after the owner's global logout", async () => {
    const totp = new OtpauthTotp();
    const sessions = t.app.container.get(PORTS.SessionRepository);
    const sidOf = (access: string) => (JSON.parse(Buffer.from(access.split('.')[1]!, 'base64url').toString()) as { sid: string }).sid;
    const bearer = (access: string) => ({ Authorization: `Bearer ${access}` });
    const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const rounds: { round: number; enable: number; logout: number; mfaOn: boolean; ownerEndedBy: string | null }[] = [];
    for (let round = 0; round < 12; round += 1) {
      const email = fresh('enable-vs-logout');
      const thief = (await signUp(t, email)).tokens.access_token;
      const owner = (await login(email, PASSWORD).expect(200)).body.data.tokens.access_token as string;
      const setup = await t.http.post('/api/v1/auth/mfa/totp/setup').set(bearer(thief)).send({}).expect(200);
      const code = totp.generate(setup.body.data.secret as string, t.clock.now());
      // The enabling starts 0-5 ms after the logout (a different offset each round): on the code before the fix,
      // 7 to 12 rounds in 12 ended stale (embedded and servers), against 0 to 3 with both sent at once.
      const [logout, enable] = await Promise.all([
        t.http.post('/api/v1/auth/logout').set(bearer(owner)).send({ scope: 'global' }),
        delay(round % 6).then(() => t.http.post('/api/v1/auth/mfa/totp/enable').set(bearer(thief)).send({ code })),
      ]);
      const mfaOn = (await login(email, PASSWORD).expect(200)).body.data.mfa_required === true;
      const ownerEndedBy = (await sessions.findById(sidOf(owner)))!.toState().revokeReason;
      rounds.push({ round, enable: enable.status, logout: logout.status, mfaOn, ownerEndedBy });
    }
    // Enabled exactly when answered 200, and then before the logout: the owner's session ended by the enabling.
    const wrong = rounds.filter(
      (r) => ![200, 401].includes(r.enable) || ![200, 401].includes(r.logout) || r.mfaOn !== (r.enable === 200) || (r.enable === 200 && r.ownerEndedBy !== 'mfa_enabled'),
    );
    expect(wrong).toEqual([]);
  }, 120_000);
});
