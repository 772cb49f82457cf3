import { ListOwnActivity } from '@application/account/list-own-activity';
import type { UnitOfWork } from '@application/ports/unit-of-work';
import { CLIENT, PASSWORD, createKit } from '../support/test-kit';

type Kit = Awaited<ReturnType<typeof createKit>>;

const login = (kit: Kit, identifier: string, password = PASSWORD) => kit.signIn({ identifier, password, client: CLIENT });

/** A verified user signed in: its id and the session its access token names (a current-password check needs it standing). */
async function signedIn(kit: Kit, email: string, username?: string) {
  const user = await kit.registerVerified(email, username);
  const { tokens } = await login(kit, email);
  const { claims } = await kit.useCases.ValidateAccessToken.execute({ token: tokens.accessToken });
  return { id: user.id, sid: claims.sid };
}

describe('UpdateProfile', () => {
  it('changes names and username, clears with null, and records auth.user.updated once per real change', async () => {
    const kit = await createKit();
    const { id: userId, sid: sessionId } = await signedIn(kit, 'alice@example.com', 'alice');
    const updated = await kit.useCases.UpdateProfile.execute({ userId, sessionId, firstName: ' Ada ', username: 'Ada_L', client: CLIENT });
    expect(updated.toState()).toMatchObject({ firstName: 'Ada', lastName: null, username: 'ada_l' });
    await kit.useCases.UpdateProfile.execute({ userId, sessionId, firstName: 'Ada', client: CLIENT });
    const cleared = await kit.useCases.UpdateProfile.execute({ userId, sessionId, firstName: null, username: null, client: CLIENT });
    expect(cleared.toState()).toMatchObject({ firstName: null, username: null });
    const events = kit.db.tables.outbox.filter((r) => r.event.type === 'auth.user.updated').map((r) => r.event.data['changed']);
    expect(events).toEqual([['username', 'first_name'], ['username', 'first_name']]);
    // The username is a sign-in name: each of its changes is a credentials.updated entry (the owner's activity shows
    // it), a change of names alone is not (an outside review, stop 48: a stolen token's rename left no trace there).
    expect(kit.auditTypes().filter((type) => type === 'credentials.updated')).toHaveLength(2);
    const activity = await kit.resolve(ListOwnActivity).execute({ userId, limit: 20, after: null });
    expect(activity.records.filter((record) => record.type === 'credentials.updated')).toHaveLength(2);
    // Recorded as what it was, a change made (until stop 51 `outcome: failure`, reason `username`: a review), and
    // evented as a rename through PUT /users/me/credentials is (until stop 51 only auth.user.updated).
    expect(kit.db.tables.auditEvents.filter((entry) => entry.type === 'credentials.updated').map((entry) => [entry.outcome, entry.reason])).toEqual([
      ['success', 'username'],
      ['success', 'username'],
    ]);
    const credentials = kit.db.tables.outbox.filter((r) => r.event.type === 'auth.credentials.updated').map((r) => r.event.data['changed']);
    expect(credentials).toEqual([['username'], ['username']]);
  });

  it('a taken username is USERNAME_TAKEN and nothing changes', async () => {
    const kit = await createKit();
    await kit.registerVerified('bob@example.com', 'bob');
    const alice = await signedIn(kit, 'alice@example.com', 'alice');
    await expect(kit.useCases.UpdateProfile.execute({ userId: alice.id, sessionId: alice.sid, username: 'BOB', lastName: 'X', client: CLIENT })).rejects.toMatchObject({
      code: 'USERNAME_TAKEN',
    });
    expect((await kit.repos.users.findById(alice.id))?.toState()).toMatchObject({ username: 'alice', lastName: null });
  });
});

describe('UpdateCredentials', () => {
  it('a new email is used to log in only after the link mailed to it is followed; the old address is told', async () => {
    const kit = await createKit();
    const alice = await signedIn(kit, 'alice@example.com');
    const result = await kit.useCases.UpdateCredentials.execute({ userId: alice.id, sessionId: alice.sid, currentPassword: PASSWORD, email: 'new@example.com', client: CLIENT });
    expect({ email: result.email, pending: result.pendingEmail }).toEqual({ email: 'alice@example.com', pending: 'new@example.com' });
    await expect(login(kit, 'new@example.com')).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    await expect(login(kit, 'alice@example.com')).resolves.toBeDefined();

    const mail = kit.mailer.inbox('new@example.com').at(-1);
    expect(mail?.subject).toBe('Confirm your new email address');
    const confirmed = await kit.useCases.VerifyEmail.execute({ token: kit.lastToken('new@example.com') });
    expect({ email: confirmed.email, pending: confirmed.pendingEmail, verified: confirmed.emailVerified }).toEqual({
      email: 'new@example.com',
      pending: null,
      verified: true,
    });
    await expect(login(kit, 'new@example.com')).resolves.toBeDefined();
    await expect(login(kit, 'alice@example.com')).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    const notice = kit.mailer.inbox('alice@example.com').at(-1);
    expect(notice?.subject).toBe('Your email address was changed');
    expect(notice?.text).toContain('new@example.com');
    expect(kit.db.tables.outbox.filter((r) => r.event.type === 'auth.credentials.updated').map((r) => r.event.data['changed'])).toEqual([['email']]);
  });

  it('naming the current username or address records no credentials.updated; cancelling a pending change does (a review, stop 65)', async () => {
    const kit = await createKit();
    const alice = await signedIn(kit, 'alice@example.com');
    const update = (fields: { email?: string; username?: string }) =>
      kit.useCases.UpdateCredentials.execute({ userId: alice.id, sessionId: alice.sid, currentPassword: PASSWORD, ...fields, client: CLIENT });
    const entries = () => kit.db.tables.auditEvents.filter((e) => e.type === 'credentials.updated' && e.outcome === 'success').length;
    await update({ username: 'alice_1' });
    expect(entries()).toBe(1);
    await update({ username: 'alice_1' });
    await update({ email: 'ALICE@example.com' });
    expect(entries()).toBe(1);
    await update({ email: 'elsewhere@example.com' });
    expect(entries()).toBe(2);
    // The current address again while a change is pending: the change is dropped, which is a change.
    await update({ email: 'alice@example.com' });
    expect((await kit.repos.users.findById(alice.id))?.pendingEmail).toBeNull();
    expect(entries()).toBe(3);
  });

  it('an address that has an account gets the "account exists" email, not a link; a newer request voids the older link', async () => {
    const kit = await createKit();
    await kit.registerVerified('taken@example.com');
    const alice = await signedIn(kit, 'alice@example.com');
    await kit.useCases.UpdateCredentials.execute({ userId: alice.id, sessionId: alice.sid, currentPassword: PASSWORD, email: 'first@example.com', client: CLIENT });
    const firstLink = kit.lastToken('first@example.com');
    await kit.useCases.UpdateCredentials.execute({ userId: alice.id, sessionId: alice.sid, currentPassword: PASSWORD, email: 'taken@example.com', client: CLIENT });
    expect(kit.mailer.inbox('taken@example.com').at(-1)?.subject).toBe('You already have an account');
    await expect(kit.useCases.VerifyEmail.execute({ token: firstLink })).rejects.toMatchObject({ code: 'INVALID_OR_EXPIRED_TOKEN' });
    expect((await kit.repos.users.findById(alice.id))?.email).toBe('alice@example.com');
  });

  it('a taken address and a free one cost the same writes (a review: the free one ran two more statements while the caller waited)', async () => {
    const kit = await createKit();
    await kit.registerVerified('taken@example.com');
    const alice = await signedIn(kit, 'alice@example.com');
    const uow = kit.uow as UnitOfWork;
    const run = uow.run.bind(uow);
    let calls: string[] = [];
    // Every repository call the change's transaction makes, in order, as `table.method`.
    uow.run = (<T>(work: Parameters<UnitOfWork['run']>[0]) =>
      run((repos) => {
        const traced = new Proxy(repos, {
          get: (target, table, receiver) => {
            const repo = Reflect.get(target, table, receiver) as object;
            return new Proxy(repo, {
              get: (inner, method, innerReceiver) => {
                const value = Reflect.get(inner, method, innerReceiver) as unknown;
                if (typeof value !== 'function') return value;
                return (...args: unknown[]) => {
                  calls.push(`${String(table)}.${String(method)}`);
                  return (value as (...a: unknown[]) => unknown).apply(inner, args);
                };
              },
            });
          },
        });
        return work(traced) as Promise<T>;
      })) as UnitOfWork['run'];
    const change = async (email: string) => {
      calls = [];
      kit.clock.advance(60);
      await kit.useCases.UpdateCredentials.execute({ userId: alice.id, sessionId: alice.sid, currentPassword: PASSWORD, email, client: CLIENT });
      return calls;
    };
    const free = await change('free@example.com');
    const taken = await change('taken@example.com');
    expect(free).toContain('oneTimeTokens.add');
    expect(taken).toEqual(free);
    // The taken address's row is spent from the start (its mail has no link), and it voided the free one's link.
    expect(kit.mailer.inbox('taken@example.com').at(-1)?.subject).toBe('You already have an account');
    const rows = [...kit.db.tables.oneTimeTokens.values()].filter((r) => r.userId === alice.id && r.purpose === 'email_change');
    expect({ rows: rows.length, live: rows.filter((r) => r.consumedAt === null).length }).toEqual({ rows: 2, live: 0 });
  });

  it('changes the username at once, and refuses a wrong current password', async () => {
    const kit = await createKit();
    const alice = await signedIn(kit, 'alice@example.com', 'alice');
    await expect(
      kit.useCases.UpdateCredentials.execute({ userId: alice.id, sessionId: alice.sid, currentPassword: 'wrong password!', username: 'alice_x', client: CLIENT }),
    ).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    await kit.useCases.UpdateCredentials.execute({ userId: alice.id, sessionId: alice.sid, currentPassword: PASSWORD, username: 'alice2', client: CLIENT });
    await expect(login(kit, 'alice2')).resolves.toBeDefined();
    await expect(login(kit, 'alice')).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
  });
});

describe('UpdateCredentials: the new address\'s mail quota (security review: one address mailed without bound)', () => {
  const QUOTA = { name: 'register-id', limit: 2, windowSeconds: 600 };
  const NOTICE = 'A change of your email address was requested';

  /** Each of `who` asks `times` times to move to `to` (in the spellings given, in turn); the answers and quotas. */
  async function changes(kit: Kit, who: { id: string; sid: string }[], spellings: string[], times: number) {
    const quotas: boolean[] = [];
    const answers: { email: string; pending: string | null }[] = [];
    for (const user of who) {
      for (let i = 0; i < times; i += 1) {
        const onQuota = (_: unknown, result: { allowed: boolean }) => void quotas.push(result.allowed);
        const input = { userId: user.id, sessionId: user.sid, currentPassword: PASSWORD, email: spellings[i % spellings.length]!, client: CLIENT, onQuota };
        const updated = await kit.useCases.UpdateCredentials.execute(input);
        answers.push({ email: updated.email, pending: updated.pendingEmail });
      }
    }
    return { quotas, answers };
  }

  it('a free address gets at most the quota\'s links per window, whoever asks and however it is spelt; past it the change is recorded and the owner told as always', async () => {
    const kit = await createKit({ claimsPerAddress: QUOTA });
    const [a, b] = [await signedIn(kit, 'a@example.com'), await signedIn(kit, 'b@example.com')];
    const { quotas, answers } = await changes(kit, [a, b], ['victim@example.com', ' VICTIM@Example.com', 'Victim@EXAMPLE.COM '], 3);

    expect(kit.mailer.inbox('victim@example.com').map((m) => m.subject)).toEqual(Array(2).fill('Confirm your new email address'));
    expect(quotas).toEqual([true, true, false, false, false, false]);
    expect(answers).toEqual([...Array(3).fill({ email: 'a@example.com', pending: 'victim@example.com' }), ...Array(3).fill({ email: 'b@example.com', pending: 'victim@example.com' })]);
    for (const owner of ['a@example.com', 'b@example.com']) expect(kit.mailer.inbox(owner).filter((m) => m.subject === NOTICE)).toHaveLength(3);
    expect(kit.auditTypes().filter((type) => type === 'credentials.updated')).toHaveLength(6);

    // The window over: the next request mails the address again, and its link works.
    kit.clock.advance(QUOTA.windowSeconds);
    await changes(kit, [b], ['victim@example.com'], 1);
    expect(kit.mailer.inbox('victim@example.com')).toHaveLength(3);
    const confirmed = await kit.useCases.VerifyEmail.execute({ token: kit.lastToken('victim@example.com') });
    expect({ id: confirmed.id, email: confirmed.email }).toEqual({ id: b.id, email: 'victim@example.com' });
  });

  it('a taken address: the same cap on "You already have an account", the same answers and quota outcomes as for a free one', async () => {
    const kit = await createKit({ claimsPerAddress: QUOTA });
    await kit.registerVerified('owner@example.com');
    // The owner's own sign-up counted in the same quota (since stop 63 RegisterUser spends it): its window ends first.
    kit.clock.advance(QUOTA.windowSeconds);
    const [a, b] = [await signedIn(kit, 'a@example.com'), await signedIn(kit, 'b@example.com')];
    const { quotas, answers } = await changes(kit, [a, b], ['owner@example.com'], 3);

    expect(kit.mailer.inbox('owner@example.com').filter((m) => m.subject === 'You already have an account')).toHaveLength(2);
    expect(quotas).toEqual([true, true, false, false, false, false]);
    expect(answers).toEqual([...Array(3).fill({ email: 'a@example.com', pending: 'owner@example.com' }), ...Array(3).fill({ email: 'b@example.com', pending: 'owner@example.com' })]);
    kit.clock.advance(QUOTA.windowSeconds);
    await changes(kit, [a], ['owner@example.com'], 1);
    expect(kit.mailer.inbox('owner@example.com').filter((m) => m.subject === 'You already have an account')).toHaveLength(3);
  });

  it('off (null): every change mails the new address, as before', async () => {
    const kit = await createKit({ claimsPerAddress: null });
    const a = await signedIn(kit, 'a@example.com');
    const { quotas } = await changes(kit, [a], ['victim@example.com'], 4);
    expect([quotas, kit.mailer.inbox('victim@example.com').length]).toEqual([[], 4]);
  });
});

describe('DeleteAccount', () => {
  it('needs the password; then the account, its sessions and tokens are gone and the events stay', async () => {
    const kit = await createKit();
    const { user, tokens } = await kit.loggedIn('alice@example.com');
    const { claims } = await kit.useCases.ValidateAccessToken.execute({ token: tokens.accessToken });
    await expect(kit.useCases.DeleteAccount.execute({ userId: user.id, sessionId: claims.sid, password: 'wrong password!', client: CLIENT })).rejects.toMatchObject({
      code: 'INVALID_CREDENTIALS',
    });
    await kit.useCases.DeleteAccount.execute({ userId: user.id, sessionId: claims.sid, password: PASSWORD, client: CLIENT });
    expect(kit.db.tables.users.size).toBe(0);
    expect(kit.db.tables.sessions.size).toBe(0);
    expect(kit.db.tables.oneTimeTokens.size).toBe(0);
    await expect(kit.useCases.ValidateAccessToken.execute({ token: tokens.accessToken })).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await expect(login(kit, 'alice@example.com')).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect(kit.eventTypes().slice(-2)).toEqual(['auth.session.revoked', 'auth.user.deleted']);
    expect(kit.db.tables.auditEvents.filter((e) => e.type === 'account.deleted').map((e) => [e.outcome, e.subjectId])).toEqual([
      ['failure', user.id],
      ['success', user.id],
    ]);
    expect(kit.mailer.inbox('alice@example.com').at(-1)?.subject).toBe('Your account was deleted');
  });

  it('the goodbye email says the owner asked for it, and an admin deletion\'s says an administrator did (outside review)', async () => {
    const kit = await createKit();
    const root = await kit.anAdmin('root@example.com');
    const alice = await signedIn(kit, 'alice@example.com');
    const bob = await kit.loggedIn('bob@example.com');
    await kit.useCases.DeleteAccount.execute({ userId: alice.id, sessionId: alice.sid, password: PASSWORD, client: CLIENT });
    await kit.useCases.DeleteUser.execute({ actor: root, userId: bob.user.id });
    const [own, byAdmin] = [kit.mailer.inbox('alice@example.com').at(-1), kit.mailer.inbox('bob@example.com').at(-1)];
    for (const part of ['text', 'html'] as const) {
      expect({ part, own: own?.[part], byAdmin: byAdmin?.[part] }).toEqual({
        part,
        own: expect.stringContaining('deleted as you asked'),
        byAdmin: expect.stringContaining('deleted by an administrator'),
      });
      expect(byAdmin?.[part]).not.toContain('as you asked');
      // No link, no token, nothing naming the administrator.
      for (const mail of [own, byAdmin]) expect(mail?.[part]).not.toMatch(/https?:|token|root@example\.com|[0-9a-f]{8}-[0-9a-f]{4}-/);
    }
    expect([own?.subject, byAdmin?.subject]).toEqual(['Your account was deleted', 'Your account was deleted']);
  });
});

describe("the caller's own account deleted meanwhile (by an admin)", () => {
  it('every use case on the own account answers INVALID_TOKEN (the token no longer counts), never NOT_FOUND', async () => {
    const kit = await createKit();
    const root = await kit.anAdmin('root@example.com');
    const { id: userId, sid: SID } = await signedIn(kit, 'alice@example.com');
    await kit.useCases.DeleteUser.execute({ actor: root, userId });
    const calls: Record<string, () => Promise<unknown>> = {
      UpdateProfile: () => kit.useCases.UpdateProfile.execute({ userId, sessionId: SID, firstName: 'Ada', client: CLIENT }),
      UpdateCredentials: () => kit.useCases.UpdateCredentials.execute({ userId, sessionId: SID, currentPassword: PASSWORD, username: 'ada', client: CLIENT }),
      DeleteAccount: () => kit.useCases.DeleteAccount.execute({ userId, sessionId: SID, password: PASSWORD, client: CLIENT }),
      ChangePassword: () =>
        kit.useCases.ChangePassword.execute({ userId, sessionId: SID, currentPassword: PASSWORD, newPassword: 'an entirely new passphrase', client: CLIENT }),
      BeginTotpSetup: () => kit.useCases.BeginTotpSetup.execute({ userId, sessionId: SID, client: CLIENT }),
      EnableTotp: () => kit.useCases.EnableTotp.execute({ userId, sessionId: SID, code: '123456', client: CLIENT }),
      DisableTotp: () => kit.useCases.DisableTotp.execute({ userId, sessionId: SID, password: PASSWORD, proof: { code: '123456' }, client: CLIENT }),
      RegenerateRecoveryCodes: () => kit.useCases.RegenerateRecoveryCodes.execute({ userId, sessionId: SID, password: PASSWORD, client: CLIENT }),
    };
    for (const [name, call] of Object.entries(calls)) {
      const outcome = await call().then(
        () => 'resolved',
        (error: { code?: string }) => error.code,
      );
      expect({ name, outcome }).toEqual({ name, outcome: 'INVALID_TOKEN' });
    }
  });
});

describe('ListSessions / RevokeSession', () => {
  it('lists active sessions with the current one marked, and revokes only the caller\'s own', async () => {
    const kit = await createKit();
    const first = await kit.loggedIn('alice@example.com');
    kit.clock.advance(1);
    const second = await login(kit, 'alice@example.com');
    const bob = await kit.loggedIn('bob@example.com');
    const { claims } = await kit.useCases.ValidateAccessToken.execute({ token: second.tokens.accessToken });
    const listed = await kit.useCases.ListSessions.execute({ userId: first.user.id, currentSessionId: claims.sid });
    expect(listed.map((s) => [s.session.id, s.current])).toEqual([
      [claims.sid, true],
      [expect.any(String), false],
    ]);
    const bobSession = (await kit.useCases.ValidateAccessToken.execute({ token: bob.tokens.accessToken })).claims.sid;
    for (const sessionId of [bobSession, '00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      await expect(kit.useCases.RevokeSession.execute({ userId: first.user.id, sessionId, currentSessionId: claims.sid, client: CLIENT })).rejects.toMatchObject({
        code: 'NOT_FOUND',
        message: 'No such session.',
      });
    }
    await expect(kit.useCases.ValidateAccessToken.execute({ token: bob.tokens.accessToken })).resolves.toBeDefined();
    const otherId = listed[1]!.session.id;
    await kit.useCases.RevokeSession.execute({ userId: first.user.id, sessionId: otherId, currentSessionId: claims.sid, client: CLIENT });
    await expect(kit.useCases.ValidateAccessToken.execute({ token: first.tokens.accessToken })).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await expect(kit.useCases.RevokeSession.execute({ userId: first.user.id, sessionId: otherId, currentSessionId: claims.sid, client: CLIENT })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(await kit.useCases.ListSessions.execute({ userId: first.user.id, currentSessionId: claims.sid })).toHaveLength(1);
  });
});

describe('RegisterUser with a taken email (verification on)', () => {
  it('answers accepted and mails the owner "account exists" with a reset hint, not a new verification link', async () => {
    const kit = await createKit();
    await kit.registerVerified('alice@example.com');
    const before = kit.mailer.sent.length;
    await expect(kit.useCases.RegisterUser.execute({ email: 'Alice@example.com', password: 'other password 1', client: CLIENT })).resolves.toEqual({
      kind: 'accepted',
    });
    const mails = kit.mailer.sent.slice(before);
    expect(mails.map((m) => [m.to, m.subject])).toEqual([['alice@example.com', 'You already have an account']]);
    expect(mails[0]?.text).toContain('https://app.example.com/reset-password\n');
    expect(mails[0]?.text).not.toContain('token=');
  });
});
