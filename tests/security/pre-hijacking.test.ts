import { type TestApp, MODES, NO_LIMITS, startSecureApp } from '../support/app';

const ATTACKER_PASSWORD = 'the intruder chose this passphrase';
const OWNER_PASSWORD = 'the owner typed this passphrase';
const CHOSEN_PASSWORD = 'finally chosen through the link';
const ROUNDS = 3;
const BURST = 6;

/**
 * Account pre-hijacking (an outside review, 2026-11-30): someone registers another person's address first, with
 * a password of their own. The owner later signs up too and gets the identical 202; their inbox holds the
 * intruder's verification link, and clicking it used to activate the account with the intruder's password.
 * Now a second registration of a never-verified address discards the unproven password and links, and mails a
 * link that sets a password (and proves the address).
 */
describe.each(MODES)('a registration of an address whose account was never verified (%s)', (mode) => {
  let t: TestApp;
  let n = 0;

  beforeAll(async () => {
    t = await startSecureApp(mode, NO_LIMITS); // the lockout too: the burst's logins are all failures
  }, 60_000);
  afterAll(async () => t?.stop());

  const linkIn = (text: string, path: string) => new RegExp(`${path}\\?token=([A-Za-z0-9_-]+)`).exec(text)?.[1];
  const address = () => `owner-${mode}-${++n}@example.com`;
  const register = (email: string, password: string) => t.http.post('/api/v1/auth/register').send({ email, password });
  const login = async (email: string, password: string) => (await t.http.post('/api/v1/auth/login').send({ email, password })).status;

  it('leaves the first sign-up password unusable and its link void; the mailed link sets the owner’s password', async () => {
    const email = address();
    await register(email, ATTACKER_PASSWORD).expect(202);
    const intrudersLink = linkIn((await t.waitForMail(email, 1)).text, 'verify-email')!;
    await register(email, OWNER_PASSWORD).expect(202);
    const notice = await t.waitForMail(email, 2);
    expect(notice.subject).toMatch(/choose a password/i);
    const setPassword = linkIn(notice.text, 'reset-password')!;

    const redeemed = await t.http.post('/api/v1/auth/verify').send({ token: intrudersLink });
    expect([redeemed.status, redeemed.body.error?.code]).toEqual([400, 'INVALID_OR_EXPIRED_TOKEN']);
    expect(await login(email, ATTACKER_PASSWORD)).toBe(401);
    expect(await login(email, OWNER_PASSWORD)).toBe(401);

    await t.http.post('/api/v1/auth/password/confirm').send({ token: setPassword, new_password: CHOSEN_PASSWORD }).expect(200);
    const signedIn = await t.http.post('/api/v1/auth/login').send({ email, password: CHOSEN_PASSWORD }).expect(200);
    expect(signedIn.body.data.user).toMatchObject({ email, email_verified: true, status: 'active', username: null });
    expect(await login(email, ATTACKER_PASSWORD)).toBe(401);
  });

  // Until stop 52 the resend mailed a verification link that activated the account with no password: anyone may
  // ask for one, so the account of a contested (or invited) address could be marked proven by a stranger's request.
  it('a verification resend afterwards sends nothing; the contest’s link still sets the password', async () => {
    const email = address();
    await register(email, ATTACKER_PASSWORD).expect(202);
    await t.waitForMail(email, 1);
    await register(email, OWNER_PASSWORD).expect(202);
    const setPassword = linkIn((await t.waitForMail(email, 2)).text, 'reset-password')!;
    await t.http.post('/api/v1/auth/verify/resend').send({ email }).expect(202);
    const unsent = async () =>
      (await t.app.infra.dataSource.query(`
        SELECT (SELECT count(*) FROM account_requests WHERE processed_at IS NULL)::int
             + (SELECT count(*) FROM email_outbox WHERE sent_at IS NULL AND failed_at IS NULL)::int AS n`))[0].n as number;
    for (let waited = 0; (await unsent()) > 0 && waited < 10_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await unsent()).toBe(0);
    expect(t.mailer.inbox(email)).toHaveLength(2);
    expect(await login(email, ATTACKER_PASSWORD)).toBe(401);
    await t.http.post('/api/v1/auth/password/confirm').send({ token: setPassword, new_password: CHOSEN_PASSWORD }).expect(200);
    expect(await login(email, CHOSEN_PASSWORD)).toBe(200);
  });

  it('a proven account is untouched: its owner gets the "account exists" email and keeps the password', async () => {
    const email = address();
    await register(email, OWNER_PASSWORD).expect(202);
    await t.http.post('/api/v1/auth/verify').send({ token: linkIn((await t.waitForMail(email, 1)).text, 'verify-email')! }).expect(200);
    await register(email, ATTACKER_PASSWORD).expect(202);
    expect((await t.waitForMail(email, 2)).subject).toMatch(/already have an account/i);
    expect(await login(email, OWNER_PASSWORD)).toBe(200);
    expect(await login(email, ATTACKER_PASSWORD)).toBe(401);
  });

  it(`${BURST} parallel sign-ups of one address, ${ROUNDS} rounds: no chosen password opens it, only the last contest's link sets one`, async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const email = address();
      const passwords = Array.from({ length: BURST }, (_, i) => `${ATTACKER_PASSWORD} number ${i}`);
      const answers = await Promise.all(passwords.map((password) => register(email, password)));
      expect(answers.map((a) => a.status)).toEqual(passwords.map(() => 202));
      await t.waitForMail(email, BURST);
      const mails = t.mailer.inbox(email);
      expect(mails).toHaveLength(BURST);
      const logins: number[] = [];
      for (const password of passwords) logins.push(await login(email, password));
      expect(logins).toEqual(passwords.map(() => 401));

      // One sign-up created the account; every later one contested it and voided the links mailed before it, so of
      // all the links mailed, only the one of the contest that committed last still works.
      const links = mails.map((m) => linkIn(m.text, 'reset-password') ?? linkIn(m.text, 'verify-email')!);
      const verified = await Promise.all(links.map(async (token) => (await t.http.post('/api/v1/auth/verify').send({ token })).status));
      expect(verified).toEqual(links.map(() => 400));
      const confirmed: number[] = [];
      for (const token of links) confirmed.push((await t.http.post('/api/v1/auth/password/confirm').send({ token, new_password: CHOSEN_PASSWORD })).status);
      expect(confirmed.filter((status) => status === 200)).toHaveLength(1);
      expect(confirmed.filter((status) => status === 400)).toHaveLength(BURST - 1);
      expect(await login(email, CHOSEN_PASSWORD)).toBe(200);
    }
  }, 60_000);
});
