import type { EmailMessage } from '@application/ports/mailer';
import { envelopeAddress } from '@infrastructure/email/smtp/smtp-mailer';
import { type Mode, type TestApp, MODES, NO_RATE_LIMITS, PASSWORD, startSecureApp } from '../support/app';

/**
 * An outside review (stop 30): `x@bücher.example` and `x@xn--bcher-kva.example` are one mailbox (mail to either
 * reaches the same inbox), and the service stored them as two addresses: an intruder could register the A-label
 * spelling with a password of their own and have the owner's later sign-up (U-label) make a second account instead
 * of contesting theirs; an email change to the other spelling got a real link; each spelling had its own lockout
 * and rate-limit budget. Either spelling is now the one address, whichever comes first.
 */
const INTRUDER_PASSWORD = 'the intruder chose this passphrase';
const CHOSEN_PASSWORD = 'finally chosen through the link';
const ROUNDS = 3;
const BURST = 10;

const unicode = (local: string) => `${local}@bücher.example`;
const ascii = (local: string) => `${local}@xn--bcher-kva.example`;
/** Both orders: the first registration with one spelling, the second with the other. */
const ORDERS = [
  ['U-label first', unicode, ascii],
  ['A-label first', ascii, unicode],
] as const;

function harness(t: () => TestApp, mode: Mode, what: string) {
  let n = 0;
  const local = () => `${what}-${mode}-${(n += 1)}`;
  /** What reached the mailbox, whichever spelling the message was addressed to: RCPT TO is the A-label form. */
  const mailbox = (address: string): EmailMessage[] => t().mailer.sent.filter((m) => envelopeAddress(m.to) === envelopeAddress(address));
  const waitForMailbox = async (address: string, count: number): Promise<EmailMessage[]> => {
    const deadline = Date.now() + 15_000;
    while (mailbox(address).length < count) {
      if (Date.now() > deadline) throw new Error(`${address}: ${mailbox(address).length} of ${count} emails`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return mailbox(address);
  };
  const linkIn = (mail: EmailMessage | undefined, path: string) => new RegExp(`${path}\\?token=([A-Za-z0-9_-]+)`).exec(mail?.text ?? '')?.[1];
  const register = (email: string, password: string) => t().http.post('/api/v1/auth/register').send({ email, password });
  const login = (email: string, password: string) => t().http.post('/api/v1/auth/login').send({ email, password });
  /** The rows stored for either spelling of `local@bücher.example`. */
  const accounts = async (name: string): Promise<{ id: string; email: string }[]> =>
    t().app.infra.dataSource.query(`SELECT id, email FROM users WHERE email = ANY($1::text[]) ORDER BY email`, [[unicode(name), ascii(name)]]);
  return { local, mailbox, waitForMailbox, linkIn, register, login, accounts };
}

describe.each(MODES)('an IDN address spelled with A-labels or U-labels is one address (%s)', (mode) => {
  let t: TestApp;
  // Rate limits off (the bursts) but the per-address reset quota, to see that both spellings share it; lockout on.
  beforeAll(async () => {
    t = await startSecureApp(mode, { ...NO_RATE_LIMITS, RATE_LIMIT_PASSWORD_RESET_ID: '2/1h' });
  }, 60_000);
  afterAll(async () => t?.stop());
  const h = harness(() => t, mode, 'idn');

  /** Registers and verifies with the given spelling; the account's id. */
  async function registered(email: string, password = PASSWORD): Promise<string> {
    const before = h.mailbox(email).length;
    await h.register(email, password).expect(202);
    const token = h.linkIn((await h.waitForMailbox(email, before + 1))[before], 'verify-email')!;
    return (await t.http.post('/api/v1/auth/verify').send({ token }).expect(200)).body.data.user.id as string;
  }

  it.each(ORDERS)('%s, verified: the other spelling’s sign-up gets the same 202 and the owner "You already have an account"', async (_order, first, second) => {
    const name = h.local();
    const id = await registered(first(name));
    await h.register(second(name), INTRUDER_PASSWORD).expect(202);
    const mails = await h.waitForMailbox(first(name), 2);
    expect(mails.map((m) => m.subject)).toEqual(['Verify your email address', 'You already have an account']);
    expect(h.linkIn(mails[1], 'verify-email')).toBeUndefined();
    expect(await h.accounts(name)).toEqual([{ id, email: unicode(name) }]);
    for (const spelling of [unicode(name), ascii(name), ` ${ascii(name).toUpperCase()} `]) {
      const ok = await h.login(spelling, PASSWORD);
      expect([spelling, ok.status, ok.body.data?.user.id, ok.body.data?.user.email]).toEqual([spelling, 200, id, unicode(name)]);
      expect([spelling, (await h.login(spelling, INTRUDER_PASSWORD)).status]).toEqual([spelling, 401]);
    }
  });

  it.each(ORDERS)('%s, never verified: the other spelling contests it (pre-hijacking), the first link is void', async (_order, first, second) => {
    const name = h.local();
    await h.register(first(name), INTRUDER_PASSWORD).expect(202);
    const intrudersLink = h.linkIn((await h.waitForMailbox(first(name), 1))[0], 'verify-email')!;
    await h.register(second(name), 'the owner typed this passphrase').expect(202);
    const notice = (await h.waitForMailbox(second(name), 2))[1];
    expect(notice?.subject).toMatch(/choose a password/i);
    expect(await h.accounts(name)).toHaveLength(1);

    const redeemed = await t.http.post('/api/v1/auth/verify').send({ token: intrudersLink });
    expect([redeemed.status, redeemed.body.error?.code]).toEqual([400, 'INVALID_OR_EXPIRED_TOKEN']);
    for (const spelling of [first(name), second(name)]) expect([spelling, (await h.login(spelling, INTRUDER_PASSWORD)).status]).toEqual([spelling, 401]);
    await t.http.post('/api/v1/auth/password/confirm').send({ token: h.linkIn(notice, 'reset-password'), new_password: CHOSEN_PASSWORD }).expect(200);
    for (const spelling of [first(name), second(name)]) {
      const ok = await h.login(spelling, CHOSEN_PASSWORD);
      expect([spelling, ok.status, ok.body.data?.user.email, ok.body.data?.user.email_verified]).toEqual([spelling, 200, unicode(name), true]);
    }
  });

  it(`${BURST} parallel sign-ups alternating the two spellings, ${ROUNDS} rounds: exactly one account, contested like one address`, async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const name = h.local();
      const passwords = Array.from({ length: BURST }, (_, i) => `${INTRUDER_PASSWORD} number ${i}`);
      const answers = await Promise.all(passwords.map((password, i) => h.register(i % 2 === 0 ? unicode(name) : ascii(name), password)));
      expect(answers.map((a) => a.status)).toEqual(passwords.map(() => 202));
      const mails = await h.waitForMailbox(unicode(name), BURST);
      expect([round, await h.accounts(name)]).toEqual([round, [{ id: expect.any(String), email: unicode(name) }]]);
      // As for one spelling: one sign-up made the account (a verification link), the first to follow contested it
      // (a link to choose a password), and the account then had no unproven password left: the owner was told.
      const count = (subject: string) => mails.filter((m) => m.subject === subject).length;
      expect([round, count('Verify your email address'), count('Choose a password to finish creating your account'), count('You already have an account')]).toEqual([
        round,
        1,
        1,
        BURST - 2,
      ]);
      const logins = await Promise.all(passwords.map(async (password, i) => (await h.login(i % 2 === 0 ? ascii(name) : unicode(name), password)).status));
      // No password chosen at a sign-up opens it (401; 429 once the five failures, over both spellings, lock it).
      expect([round, logins.filter((status) => status !== 401 && status !== 429)]).toEqual([round, []]);
      const links = mails.map((m) => h.linkIn(m, 'reset-password') ?? h.linkIn(m, 'verify-email')).filter((token) => token !== undefined);
      const confirmed: number[] = [];
      for (const token of links) confirmed.push((await t.http.post('/api/v1/auth/password/confirm').send({ token, new_password: CHOSEN_PASSWORD })).status);
      expect([round, confirmed.sort()]).toEqual([round, [200, 400]]);
      expect([round, (await h.login(ascii(name), CHOSEN_PASSWORD)).status, (await h.login(unicode(name), CHOSEN_PASSWORD)).status]).toEqual([round, 200, 200]);
    }
  }, 120_000);

  it.each(ORDERS)('%s registered: an email change to the other spelling sends only the "already have an account" notice', async (_order, first, second) => {
    const name = h.local();
    const ownerId = await registered(first(name));
    const mover = `mover-${name}@example.com`;
    await registered(mover);
    const { tokens } = (await h.login(mover, PASSWORD).expect(200)).body.data;
    const before = h.mailbox(first(name)).length;
    await t.http
      .put('/api/v1/users/me/credentials')
      .set('Authorization', `Bearer ${tokens.access_token}`)
      .send({ current_password: PASSWORD, email: second(name) })
      .expect(200);
    const after = await h.waitForMailbox(first(name), before + 1);
    await t.settle();
    expect(after.slice(before).map((m) => m.subject)).toEqual(['You already have an account']);
    expect(after.slice(before).some((m) => /token=/.test(m.text))).toBe(false);
    expect(await h.accounts(name)).toEqual([{ id: ownerId, email: unicode(name) }]);
    expect((await h.login(mover, PASSWORD)).status).toBe(200);
  });

  it('an email change to the other spelling of one’s own address asks nothing (it is the address in use)', async () => {
    const name = h.local();
    await registered(unicode(name));
    const { tokens } = (await h.login(ascii(name), PASSWORD).expect(200)).body.data;
    const before = h.mailbox(unicode(name)).length;
    const put = await t.http
      .put('/api/v1/users/me/credentials')
      .set('Authorization', `Bearer ${tokens.access_token}`)
      .send({ current_password: PASSWORD, email: ascii(name) })
      .expect(200);
    expect(put.body.data.user.email).toBe(unicode(name));
    await t.settle();
    expect(h.mailbox(unicode(name)).slice(before)).toEqual([]);
  });

  it('wrong passwords alternating the spellings lock the account after LOCKOUT_THRESHOLD (5) in total', async () => {
    const name = h.local();
    await registered(ascii(name));
    const failures: number[] = [];
    for (let i = 0; i < 5; i += 1) failures.push((await h.login(i % 2 === 0 ? unicode(name) : ascii(name), 'not the password at all')).status);
    expect(failures).toEqual([401, 401, 401, 401, 401]);
    await t.settle();
    for (const spelling of [unicode(name), ascii(name)]) {
      const locked = await h.login(spelling, PASSWORD);
      expect([spelling, locked.status, locked.body.error?.code]).toEqual([spelling, 429, 'ACCOUNT_LOCKED']);
    }
  });

  it('a parallel burst of wrong passwords over both spellings spends one lockout budget', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const name = h.local();
      await registered(unicode(name));
      const burst = await Promise.all(Array.from({ length: 8 }, (_, i) => h.login(i % 2 === 0 ? unicode(name) : ascii(name), `wrong ${i}`)));
      const statuses = burst.map((r) => r.status).sort();
      expect([round, statuses.filter((s) => s === 401).length, statuses.filter((s) => s === 429).length]).toEqual([round, 5, 3]);
      await t.settle();
      expect([round, (await h.login(ascii(name), PASSWORD)).status]).toEqual([round, 429]);
    }
  }, 60_000);

  it('the per-address password-reset quota (2/1h here) counts both spellings together', async () => {
    const name = h.local();
    await registered(unicode(name));
    const statuses: number[] = [];
    for (const email of [ascii(name), unicode(name), ascii(name), unicode(name)]) statuses.push((await t.http.post('/api/v1/auth/password/reset').send({ email })).status);
    expect(statuses).toEqual([202, 202, 429, 429]);
  });
});

describe.each(MODES)('with email verification off, the other spelling is an already registered address (%s)', (mode) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startSecureApp(mode, { ...NO_RATE_LIMITS, REQUIRE_EMAIL_VERIFICATION: 'false' });
  }, 60_000);
  afterAll(async () => t?.stop());
  const h = harness(() => t, mode, 'idn-direct');

  it.each(ORDERS)('%s: 409 EMAIL_ALREADY_REGISTERED', async (_order, first, second) => {
    const name = h.local();
    const created = await h.register(first(name), PASSWORD).expect(201);
    expect(created.body.data.user.email).toBe(unicode(name));
    const again = await h.register(second(name), INTRUDER_PASSWORD);
    expect([again.status, again.body.error?.code]).toEqual([409, 'EMAIL_ALREADY_REGISTERED']);
    expect(await h.accounts(name)).toHaveLength(1);
  });

  it(`${BURST} parallel sign-ups alternating the spellings, ${ROUNDS} rounds: one 201, the others 409`, async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const name = h.local();
      const answers = await Promise.all(Array.from({ length: BURST }, (_, i) => h.register(i % 2 === 0 ? unicode(name) : ascii(name), `${PASSWORD} ${i}`)));
      const statuses = answers.map((a) => a.status).sort();
      expect([round, statuses]).toEqual([round, [201, ...Array.from({ length: BURST - 1 }, () => 409)]]);
      expect([round, await h.accounts(name)]).toEqual([round, [{ id: expect.any(String), email: unicode(name) }]]);
    }
  }, 60_000);
});
