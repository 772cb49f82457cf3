import { Writable } from 'node:stream';
import { PORTS } from '@application/ports/tokens';
import { createLogger } from '@infrastructure/logging/pino-logger';
import { type TestApp, PASSWORD, signUp, MODES, NO_RATE_LIMITS, startSecureApp } from '../support/app';
import { midStep, oathtool } from '../support/totp';

const ROUNDS = 5;

/**
 * An outside review's findings on a pending email change (PUT /users/me/credentials {email}).
 * 1. Someone with a session and the password asks to move the login address to their own; the owner ends that
 *    session (logout `others`, or DELETE /users/me/sessions/:id). The link mailed to the new address must die
 *    with it, as it does on a global logout: confirmed, it would hand the account over (a reset through it).
 * 2. The new address got an account after the link was mailed (a sign-up, or another user's change confirmed
 *    first): /verify answers as for a dead link (400, CONTRACT lists no 409), spends the link and drops the change.
 */
describe.each(MODES)('email change links (%s)', (mode) => {
  let t: TestApp;
  let n = 0;

  beforeAll(async () => {
    t = await startSecureApp(mode, NO_RATE_LIMITS);
  }, 60_000);
  afterAll(async () => t?.stop());

  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  const fresh = (what: string) => `${what}-${mode}-${(n += 1)}@example.com`;
  const login = (email: string) => t.http.post('/api/v1/auth/login').send({ email, password: PASSWORD });
  const confirm = (token: string) => t.http.post('/api/v1/auth/verify').send({ token });
  const logout = (access: string, scope?: string) => t.http.post('/api/v1/auth/logout').set(bearer(access)).send(scope === undefined ? {} : { scope });
  const revoke = (access: string, sessionId: string) => t.http.delete(`/api/v1/users/me/sessions/${sessionId}`).set(bearer(access));
  const linkIn = (text: string) => /verify-email\?token=([A-Za-z0-9_-]+)/.exec(text)?.[1];

  /** The stored account (email and pending change are not in the API's user). */
  async function stored(userId: string) {
    const user = await t.app.container.get(PORTS.UserRepository).findById(userId);
    if (!user) throw new Error(`no user ${userId}`);
    return { email: user.email, pendingEmail: user.pendingEmail };
  }

  /** Asks, from `access`, to move the account to `to`; returns the token of the link mailed there. */
  async function requestChange(access: string, to: string): Promise<string> {
    const before = t.mailer.inbox(to).length;
    await t.http.put('/api/v1/users/me/credentials').set(bearer(access)).send({ current_password: PASSWORD, email: to }).expect(200);
    const token = linkIn((await t.waitForMail(to, before + 1)).text);
    if (!token) throw new Error(`no change link mailed to ${to}`);
    return token;
  }

  /** A verified owner signed in, a second session of theirs (the thief's, same password), the thief's change link. */
  async function hijackAttempt() {
    const owner = fresh('owner');
    const target = fresh('thief-address');
    const signedUp = await signUp(t, owner);
    const thief = (await login(owner).expect(200)).body.data.tokens.access_token as string;
    const sessions = (await t.http.get('/api/v1/users/me/sessions').set(bearer(signedUp.tokens.access_token)).expect(200)).body.data.sessions;
    const thiefSid = (sessions as { id: string; current: boolean }[]).find((s) => !s.current)!.id;
    const link = await requestChange(thief, target);
    return { owner, target, userId: signedUp.user.id, access: signedUp.tokens.access_token, thief, thiefSid, link };
  }

  async function expectRefusedAndUnchanged(link: string, userId: string, owner: string, target: string) {
    const redeemed = await confirm(link);
    expect([redeemed.status, redeemed.body.error?.code]).toEqual([400, 'INVALID_OR_EXPIRED_TOKEN']);
    expect(await stored(userId)).toEqual({ email: owner, pendingEmail: null });
    expect((await login(target)).status).toBe(401);
    await login(owner).expect(200);
  }

  describe('finding 1: ending the session that asked for the change ends the change', () => {
    it('logout scope others: the thief\'s session ends, the link is refused and the address stays', async () => {
      const { owner, target, userId, access, thief, link } = await hijackAttempt();
      expect((await stored(userId)).pendingEmail).toBe(target);
      await logout(access, 'others').expect(200);
      expect((await t.http.get('/api/v1/users/me').set(bearer(thief))).status).toBe(401);
      await expectRefusedAndUnchanged(link, userId, owner, target);
    });

    it('turning MFA on (which ends the other sessions) ends the thief\'s change too', async () => {
      t.clock.set(midStep(t.clock.now()));
      const { owner, target, userId, access, thief, link } = await hijackAttempt();
      const setup = await t.http.post('/api/v1/auth/mfa/totp/setup').set(bearer(access)).expect(200);
      await t.http.post('/api/v1/auth/mfa/totp/enable').set(bearer(access)).send({ code: oathtool(setup.body.data.secret as string, t.clock.now()) }).expect(200);
      expect((await t.http.get('/api/v1/users/me').set(bearer(thief))).status).toBe(401);
      const redeemed = await confirm(link);
      expect([redeemed.status, redeemed.body.error?.code]).toEqual([400, 'INVALID_OR_EXPIRED_TOKEN']);
      expect(await stored(userId)).toEqual({ email: owner, pendingEmail: null });
      expect((await login(target)).status).toBe(401);
    });

    it('a refresh token detected as reused (the session taken for stolen): the change made from it ends with it (outside review, 2026-12-02)', async () => {
      const owner = fresh('copied');
      const target = fresh('thief-address');
      const signedUp = await signUp(t, owner);
      // The thief copied the refresh token (and knows the password): rotates it first, then asks for the change.
      const stolen = (await t.http.post('/api/v1/auth/refresh').send({ refresh_token: signedUp.tokens.refresh_token }).expect(200)).body.data.tokens;
      const link = await requestChange(stolen.access_token as string, target);
      expect((await stored(signedUp.user.id)).pendingEmail).toBe(target);
      t.clock.advance(60); // past the grace window: the owner's device presents the replaced token
      const reused = await t.http.post('/api/v1/auth/refresh').send({ refresh_token: signedUp.tokens.refresh_token });
      expect([reused.status, reused.body.error?.code]).toEqual([401, 'INVALID_REFRESH_TOKEN']);
      expect((await t.http.get('/api/v1/users/me').set(bearer(stolen.access_token as string))).status).toBe(401);
      await expectRefusedAndUnchanged(link, signedUp.user.id, owner, target);
    });

    it('a reuse racing a password change of the same account (the locked path now takes the account first): never a 500, both settle', async () => {
      for (let round = 0; round < ROUNDS; round += 1) {
        const owner = fresh('race');
        const signedUp = await signUp(t, owner);
        const next = (await t.http.post('/api/v1/auth/refresh').send({ refresh_token: signedUp.tokens.refresh_token }).expect(200)).body.data.tokens;
        const other = (await login(owner).expect(200)).body.data.tokens.access_token as string;
        t.clock.advance(60);
        const answers = await Promise.all([
          t.http.post('/api/v1/auth/refresh').send({ refresh_token: signedUp.tokens.refresh_token }),
          t.http.post('/api/v1/auth/refresh').send({ refresh_token: signedUp.tokens.refresh_token }),
          t.http.put('/api/v1/auth/password/change').set(bearer(other)).send({ current_password: PASSWORD, new_password: `a new long passphrase ${round}` }),
          t.http.post('/api/v1/auth/refresh').send({ refresh_token: next.refresh_token as string }),
        ]);
        // The current token's refresh may rotate before either ends the session, or be refused after.
        const [first, second, change, current] = answers.map((a) => a.status);
        expect([first, second, change, [200, 401].includes(current ?? 0)]).toEqual([401, 401, 200, true]);
      }
    });

    it('DELETE /users/me/sessions/:id of the thief\'s session: the link is refused and the address stays', async () => {
      const { owner, target, userId, access, thief, thiefSid, link } = await hijackAttempt();
      await revoke(access, thiefSid).expect(200);
      expect((await t.http.get('/api/v1/users/me').set(bearer(thief))).status).toBe(401);
      await expectRefusedAndUnchanged(link, userId, owner, target);
    });

    it('logout others voids the change even when the thief signed out first (no other session left to end)', async () => {
      const { owner, target, userId, access, thief, link } = await hijackAttempt();
      await logout(thief).expect(200);
      await logout(access, 'others').expect(200);
      await expectRefusedAndUnchanged(link, userId, owner, target);
    });

    it('ending only the current session (logout local, or DELETE of one\'s own session) keeps the owner\'s change', async () => {
      for (const how of ['logout local', 'delete own session', 'delete own session, its id in capitals'] as const) {
        const owner = fresh('leaving');
        const target = fresh('new-address');
        const { user, tokens } = await signUp(t, owner);
        const link = await requestChange(tokens.access_token, target);
        if (how === 'logout local') {
          await logout(tokens.access_token).expect(200);
        } else {
          const sessions = (await t.http.get('/api/v1/users/me/sessions').set(bearer(tokens.access_token)).expect(200)).body.data.sessions;
          const own = (sessions as { id: string; current: boolean }[]).find((s) => s.current)!.id;
          // The id in capitals is the same session (a uuid), not another one: ending it keeps the change too.
          await revoke(tokens.access_token, how === 'delete own session' ? own : own.toUpperCase()).expect(200);
        }
        expect([how, (await stored(user.id)).pendingEmail]).toEqual([how, target]);
        const redeemed = await confirm(link);
        expect([how, redeemed.status]).toEqual([how, 200]);
        expect(await stored(user.id)).toEqual({ email: target, pendingEmail: null });
        await login(target).expect(200);
      }
    });

    it('the thief\'s confirm racing the owner\'s revocation: never a 500; the address moves only if the confirm came first', async () => {
      for (let round = 0; round < ROUNDS * 2; round += 1) {
        const { owner, target, userId, access, thiefSid, link } = await hijackAttempt();
        // Confirms fired the moment the revocation answered (it has committed): none may succeed.
        const ending = (round % 2 === 0 ? logout(access, 'others') : revoke(access, thiefSid)).then(async (ended) => ({
          ended,
          late: await Promise.all(Array.from({ length: 4 }, () => confirm(link))),
        }));
        const [{ ended, late }, early] = await Promise.all([ending, confirm(link)]);
        expect([round, ended.status]).toEqual([round, 200]);
        expect([round, early.status === 200 || early.status === 400]).toEqual([round, true]);
        if (early.status === 400) expect(early.body.error.code).toBe('INVALID_OR_EXPIRED_TOKEN');
        expect([round, late.map((r) => [r.status, r.body.error?.code])]).toEqual([round, Array(4).fill([400, 'INVALID_OR_EXPIRED_TOKEN'])]);
        // Either the early confirm committed first (the change happened before the owner acted) or the link died.
        const after = await stored(userId);
        expect([round, after]).toEqual([round, { email: early.status === 200 ? target : owner, pendingEmail: null }]);
      }
    });

    it('confirms sent after the owner\'s revocation answered are all refused (parallel bursts)', async () => {
      for (let round = 0; round < ROUNDS; round += 1) {
        const { owner, target, userId, access, thiefSid, link } = await hijackAttempt();
        if (round % 2 === 0) await logout(access, 'others').expect(200);
        else await revoke(access, thiefSid).expect(200);
        const answers = await Promise.all(Array.from({ length: 10 }, () => confirm(link)));
        expect([round, answers.map((a) => a.status)]).toEqual([round, Array(10).fill(400)]);
        expect(answers.every((a) => a.body.error?.code === 'INVALID_OR_EXPIRED_TOKEN')).toBe(true);
        expect(await stored(userId)).toEqual({ email: owner, pendingEmail: null });
        expect((await login(target)).status).toBe(401);
      }
    });
  });

  describe('finding 2: a new address that got an account after its link was mailed', () => {
    it('registered (unverified) since: 400 as a dead link, the link spent, the change dropped; it stays dead when that account goes', async () => {
      const owner = fresh('mover');
      const target = fresh('taken-later');
      const { user, tokens } = await signUp(t, owner);
      const link = await requestChange(tokens.access_token, target);
      // Someone signs up with the address (processed in the background: its verification email says it is done).
      await t.http.post('/api/v1/auth/register').send({ email: target, password: PASSWORD }).expect(202);
      const verification = linkIn((await t.waitForMail(target, 2)).text)!;

      const redeemed = await confirm(link);
      expect([redeemed.status, redeemed.body.error?.code]).toEqual([400, 'INVALID_OR_EXPIRED_TOKEN']);
      expect(await stored(user.id)).toEqual({ email: owner, pendingEmail: null });
      await login(owner).expect(200);

      // The other account goes away: the link does not come back to life.
      await confirm(verification).expect(200);
      const other = (await login(target).expect(200)).body.data.tokens.access_token as string;
      await t.http.delete('/api/v1/users/me').set(bearer(other)).send({ password: PASSWORD }).expect(200);
      const again = await confirm(link);
      expect([again.status, again.body.error?.code]).toEqual([400, 'INVALID_OR_EXPIRED_TOKEN']);
      expect(await stored(user.id)).toEqual({ email: owner, pendingEmail: null });
    });

    it('two users confirming a change to one address at once: one 200, one 400, never a 500; the loser\'s link spent, change dropped', async () => {
      for (let round = 0; round < ROUNDS; round += 1) {
        const target = fresh('contested');
        const [a, b] = [fresh('rival-a'), fresh('rival-b')];
        const [ua, ub] = [await signUp(t, a), await signUp(t, b)];
        const links = [await requestChange(ua.tokens.access_token, target), await requestChange(ub.tokens.access_token, target)];
        const answers = await Promise.all(links.map((link) => confirm(link)));
        expect([round, answers.map((r) => r.status).sort()]).toEqual([round, [200, 400]]);
        const winner = answers[0]!.status === 200 ? 0 : 1;
        const loser = 1 - winner;
        expect(answers[loser]!.body.error.code).toBe('INVALID_OR_EXPIRED_TOKEN');
        const [users, addresses] = [[ua.user.id, ub.user.id], [a, b]];
        expect(await stored(users[winner]!)).toEqual({ email: target, pendingEmail: null });
        expect(await stored(users[loser]!)).toEqual({ email: addresses[loser], pendingEmail: null });

        // The winner's account goes away: the loser's link stays spent.
        const access = (await login(target).expect(200)).body.data.tokens.access_token as string;
        await t.http.delete('/api/v1/users/me').set(bearer(access)).send({ password: PASSWORD }).expect(200);
        const again = await confirm(links[loser]!);
        expect([round, again.status, again.body.error?.code]).toEqual([round, 400, 'INVALID_OR_EXPIRED_TOKEN']);
        expect(await stored(users[loser]!)).toEqual({ email: addresses[loser], pendingEmail: null });
      }
    });
  });
});

/**
 * A security review: PUT /users/me/credentials {email} mailed the address every time, so a few throwaway accounts
 * could mail one address without bound (about 720 mails an hour from one IP within the route's own limits). The
 * confirmation (or "account exists") mail now counts in the address's sign-up quota, RATE_LIMIT_REGISTER_ID; past it
 * the answer stays the same 200 and nothing is mailed to the address. Redis times its windows by the wall clock, so
 * the servers mode has a window short enough to wait out; the embedded one moves the app's clock.
 */
describe.each(MODES)('email change: the new address\'s mail quota (%s)', (mode) => {
  const LIMIT = 3;
  const WINDOW_SECONDS = mode === 'servers' ? 5 : 3600;
  let t: TestApp;
  let n = 0;
  const lines: string[] = [];

  beforeAll(async () => {
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => void (lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== '')), done()) });
    t = await startSecureApp(mode, {
      ...NO_RATE_LIMITS,
      RATE_LIMIT_REGISTER_ID: `${LIMIT}/${WINDOW_SECONDS}s`,
      // The route's own quotas stay on: their RateLimit headers must not differ once the address's quota is spent.
      RATE_LIMIT_CURRENT_PASSWORD_IP: '60/5m',
      RATE_LIMIT_CURRENT_PASSWORD_ID: '10/15m',
    }, { logger: createLogger('info', sink) });
  }, 60_000);
  afterAll(async () => t?.stop());

  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  const fresh = (what: string) => `${what}-q-${mode}-${(n += 1)}@example.com`;
  const inbox = (to: string, subject: string) => t.mailer.inbox(to).filter((m) => m.subject === subject);

  /** Each account asks `times` times to move to `to`; every answer, its status, body and RateLimit-Policy. */
  async function changes(accessTokens: string[], to: string, times: number) {
    const answers: { status: number; body: unknown; policy: string | undefined }[][] = [];
    for (const access of accessTokens) {
      const own = [];
      for (let i = 0; i < times; i += 1) {
        const r = await t.http.put('/api/v1/users/me/credentials').set(bearer(access)).send({ current_password: PASSWORD, email: to });
        // The body's data (meta carries the request's id and time).
        own.push({ status: r.status, body: r.body.data as unknown, policy: r.headers['ratelimit-policy'] as string | undefined });
      }
      answers.push(own);
    }
    await t.app.infra.email.sender.drain();
    return answers;
  }

  /** Every answer 200, an account's answers all alike, and no quota of the address named in any header. */
  function expectSameAnswers(answers: Awaited<ReturnType<typeof changes>>) {
    for (const own of answers) {
      expect(own.map((a) => a.status)).toEqual(own.map(() => 200));
      expect(own.map((a) => a.body)).toEqual(own.map(() => own[0]!.body));
      expect(own.map((a) => a.policy)).toEqual(own.map(() => '"current-password-ip";q=60;w=300, "current-password-id";q=10;w=900'));
    }
  }

  /** A fresh access token (one from before the window has expired with the app's clock moved on). */
  const signIn = async (email: string) =>
    (await t.http.post('/api/v1/auth/login').send({ email, password: PASSWORD }).expect(200)).body.data.tokens.access_token as string;

  async function windowPasses() {
    if (mode === 'servers') await new Promise((resolve) => setTimeout(resolve, WINDOW_SECONDS * 1000 + 250));
    else t.clock.advance(WINDOW_SECONDS);
  }

  it('a free address: accounts changing to it again and again mail it at most the quota per window, every answer the same 200; after the window it is mailed again', async () => {
    const victim = fresh('victim');
    const bEmail = fresh('b');
    const [a, b] = [await signUp(t, fresh('a')), await signUp(t, bEmail)];
    const answers = await changes([a.tokens.access_token, b.tokens.access_token], victim, 4);
    expectSameAnswers(answers);
    expect(t.mailer.inbox(victim).map((m) => m.subject)).toEqual(Array(LIMIT).fill('Confirm your new email address'));
    // Withheld without a word to the caller, but not silently: a log line (no address) and the refusal count.
    const withheld = lines.filter((line) => line.includes('the new address has had its quota of mails'));
    expect(withheld.map((line) => (JSON.parse(line) as { quota: string }).quota)).toEqual(Array(2 * 4 - LIMIT).fill('register-id'));
    expect(lines.filter((line) => line.includes(victim))).toEqual([]);
    expect((await t.http.get('/metrics').expect(200)).text).toMatch(new RegExp(`^auth_rate_limit_refusals_total\\{group="register"\\} ${2 * 4 - LIMIT}$`, 'm'));

    await windowPasses();
    expectSameAnswers(await changes([await signIn(bEmail)], victim, 1));
    expect(t.mailer.inbox(victim)).toHaveLength(LIMIT + 1);
    await t.http.post('/api/v1/auth/verify').send({ token: t.lastMailedToken(victim) }).expect(200);
    await t.http.post('/api/v1/auth/login').send({ email: victim, password: PASSWORD }).expect(200);
  }, 60_000);

  it('a taken address: its sign-up and the changes to it share one quota, "You already have an account" capped alike, the answers the same', async () => {
    const [aEmail, bEmail, victim] = [fresh('a'), fresh('b'), fresh('owner')];
    const [a, b] = [await signUp(t, aEmail), await signUp(t, bEmail)];
    await signUp(t, victim); // a sign-up: one of the address's mails (its verification link), and its window starts
    const answers = await changes([a.tokens.access_token, b.tokens.access_token], victim, 4);
    expectSameAnswers(answers);
    expect(inbox(victim, 'You already have an account')).toHaveLength(LIMIT - 1);
    expect(t.mailer.inbox(victim)).toHaveLength(LIMIT);

    await windowPasses();
    expectSameAnswers(await changes([await signIn(aEmail)], victim, 1));
    expect(inbox(victim, 'You already have an account')).toHaveLength(LIMIT);
  }, 60_000);
});
