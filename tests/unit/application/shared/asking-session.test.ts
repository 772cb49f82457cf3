import type { Asker } from '@application/shared/asking-session';
import { OtpauthTotp } from '@infrastructure/security/otp/otpauth-totp';
import { fastPasswordHasher, VerifyHook } from '../../../support/kit';
import { CLIENT, PASSWORD, createKit } from '../support/test-kit';

type Kit = Awaited<ReturnType<typeof createKit>>;

const totp = new OtpauthTotp();

/** Signed in with TOTP on (set up and enabled through the use cases); the secret, for a code. */
async function enrolled(kit: Kit, me: Asker): Promise<string> {
  const setup = await kit.useCases.BeginTotpSetup.execute({ ...me, client: CLIENT });
  await kit.useCases.EnableTotp.execute({ ...me, code: totp.generate(setup.secret, kit.clock.now()), client: CLIENT });
  kit.clock.advance(60); // the enabling code's step spent
  return setup.secret;
}

interface Case {
  name: string;
  /** Checks the current password first (the revocation can land while it is hashed). */
  password?: true;
  /** Readies the signed-in account `me` and returns the call its access token asks for. */
  prepare(kit: Kit, me: Asker): Promise<() => Promise<unknown>>;
}

/**
 * Every change a bearer token asks for (the routes pass the token's `sub` and `sid`), but the ones that only take
 * access away (logout, DELETE /users/me/sessions/:id): see the last test.
 */
const CASES: Case[] = [
  { name: 'UpdateProfile (PATCH /users/me)', prepare: async (kit, me) => () => kit.useCases.UpdateProfile.execute({ ...me, firstName: 'Ada', client: CLIENT }) },
  {
    password: true,
    name: 'UpdateCredentials (PUT /users/me/credentials)',
    prepare: async (kit, me) => () => kit.useCases.UpdateCredentials.execute({ ...me, currentPassword: PASSWORD, username: 'ada', client: CLIENT }),
  },
  {
    password: true,
    name: 'DeleteAccount (DELETE /users/me)',
    prepare: async (kit, me) => () => kit.useCases.DeleteAccount.execute({ ...me, password: PASSWORD, client: CLIENT }),
  },
  {
    password: true,
    name: 'ChangePassword (PUT /auth/password/change)',
    prepare: async (kit, me) => () => kit.useCases.ChangePassword.execute({ ...me, currentPassword: PASSWORD, newPassword: 'an entirely new passphrase', client: CLIENT }),
  },
  { name: 'BeginTotpSetup (POST /auth/mfa/totp/setup)', prepare: async (kit, me) => () => kit.useCases.BeginTotpSetup.execute({ ...me, client: CLIENT }) },
  {
    name: 'EnableTotp (POST /auth/mfa/totp/enable)',
    async prepare(kit, me) {
      const setup = await kit.useCases.BeginTotpSetup.execute({ ...me, client: CLIENT });
      return () => kit.useCases.EnableTotp.execute({ ...me, code: totp.generate(setup.secret, kit.clock.now()), client: CLIENT });
    },
  },
  {
    password: true,
    name: 'DisableTotp (POST /auth/mfa/totp/disable)',
    async prepare(kit, me) {
      const secret = await enrolled(kit, me);
      return () => kit.useCases.DisableTotp.execute({ ...me, password: PASSWORD, proof: { code: totp.generate(secret, kit.clock.now()) }, client: CLIENT });
    },
  },
  {
    password: true,
    name: 'RegenerateRecoveryCodes (POST /auth/mfa/backup-codes)',
    async prepare(kit, me) {
      await enrolled(kit, me);
      return () => kit.useCases.RegenerateRecoveryCodes.execute({ ...me, password: PASSWORD, client: CLIENT });
    },
  },
];

interface Spoiler {
  name: string;
  /** What commits between the route's token check and the use case's transaction. */
  spoil(kit: Kit, me: Asker): Promise<void>;
}

const SPOILERS: Spoiler[] = [
  { name: 'a global logout', spoil: (kit, me) => kit.useCases.Logout.execute({ ...me, scope: 'global', client: CLIENT }).then(() => undefined) },
  {
    name: 'the asking session revoked alone (only its row locked)',
    spoil: (kit, me) => kit.useCases.RevokeSession.execute({ ...me, currentSessionId: me.sessionId, client: CLIENT }),
  },
  {
    name: 'an admin suspending the account',
    async spoil(kit, me) {
      const actor = await kit.anAdmin('root@example.com');
      await kit.useCases.UpdateUser.execute({ actor, userId: me.userId, status: 'suspended' });
    },
  },
  {
    // The account check alone: the stored row says suspended, the session was left active.
    name: 'the account suspended with its session left active',
    async spoil(kit, me) {
      const state = (await kit.repos.users.findById(me.userId))!.toState();
      kit.overwriteUser({ ...state, status: 'suspended' });
    },
  },
];

/** Everything a use case could have left behind. */
function stored(kit: Kit) {
  const { users, sessions, auditEvents, outbox, emails, oneTimeTokens } = kit.db.tables;
  return structuredClone({ users, sessions, auditEvents, outbox, emails, oneTimeTokens, mails: kit.mailer.sent.length });
}

/**
 * A reviewer's finding (two instances, one database): a write whose access token passed the check just before a
 * global logout, a suspension or a deletion committed afterwards (TOTP enabled on an account every session of
 * which had been logged out). Each use case re-checks the asking session and the account in its transaction,
 * under the account's lock: here the revocation commits between the check and the call, and the call is refused
 * as the token is (INVALID_TOKEN), with nothing written.
 */
describe.each(SPOILERS.map((s) => [s.name, s] as const))('the asking token stopped counting since it was checked: %s', (_spoiler, { spoil }) => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s refuses (INVALID_TOKEN) and changes nothing', async (_name, { prepare }) => {
    const kit = await createKit({}, fastPasswordHasher());
    const { userId, sessionId } = await kit.signedInAs('alice@example.com');
    const me = { userId, sessionId };
    const call = await prepare(kit, me);
    await spoil(kit, me);
    await kit.settle();
    const before = stored(kit);
    await expect(call()).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await kit.settle();
    expect(stored(kit)).toEqual(before);
  });
});

/**
 * The same, the revocation committing while the current password is hashed (after the guard's read of the
 * session, before the change's transaction): only the check under the account's lock sees it.
 */
describe.each(SPOILERS.map((s) => [s.name, s] as const))('the token stopped counting while its current password was checked: %s', (_spoiler, { spoil }) => {
  it.each(CASES.filter((c) => c.password).map((c) => [c.name, c] as const))('%s refuses (INVALID_TOKEN) and changes nothing', async (_name, { prepare }) => {
    const hasher = new VerifyHook();
    const kit = await createKit({}, hasher);
    const { userId, sessionId } = await kit.signedInAs('alice@example.com');
    const me = { userId, sessionId };
    const call = await prepare(kit, me);
    let before: ReturnType<typeof stored> | null = null;
    hasher.during = async () => {
      await spoil(kit, me);
      await kit.settle();
      before = stored(kit);
    };
    await expect(call()).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await kit.settle();
    expect(before).not.toBeNull();
    expect(stored(kit)).toEqual(before);
  });
});

describe('the asking token still counting', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s goes ahead', async (_name, { prepare }) => {
    const kit = await createKit({}, fastPasswordHasher());
    const { userId, sessionId } = await kit.signedInAs('alice@example.com');
    const call = await prepare(kit, { userId, sessionId });
    await expect(call().then(() => 'done')).resolves.toBe('done');
  });
});

/**
 * Revocations are not refused for a stale token: refusing them would help the token they race. A stolen token
 * enables TOTP, which ends the owner's session (mfa_enabled) after the owner's "log out everywhere" passed its
 * token check: the logout still ends the stolen session.
 */
it("the owner's global logout racing a stolen token's TOTP enabling still ends the stolen session", async () => {
  const kit = await createKit({}, fastPasswordHasher());
  const thief = await kit.signedInAs('alice@example.com');
  const owner = await kit.signIn({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT });
  const ownerSid = (await kit.useCases.ValidateAccessToken.execute({ token: owner.tokens.accessToken })).claims.sid;
  await enrolled(kit, { userId: thief.userId, sessionId: thief.sessionId });
  expect(kit.db.tables.sessions.get(ownerSid)?.revokeReason).toBe('mfa_enabled');
  await expect(kit.useCases.Logout.execute({ userId: thief.userId, sessionId: ownerSid, scope: 'global', client: CLIENT })).resolves.toEqual({ revoked: 1 });
  expect(kit.db.tables.sessions.get(thief.sessionId)?.revokeReason).toBe('logout_global');
});

interface DatedCase {
  name: string;
  /** Readies the account `me` (signed in) and returns the change to date. */
  prepare(kit: Kit, me: Asker): Promise<() => Promise<unknown>>;
  /** Which of the change's transactions takes the account's lock (1 unless it reads in one of its own first). */
  lockingRun?: number;
}

/** The admin changes on another account: each locks the admins, then the account. */
const ADMIN_CASES: DatedCase[] = [
  { name: 'DeleteUser (DELETE /admin/users/:id)', prepare: async (kit, me) => { const actor = await kit.anAdmin('root@example.com'); return () => kit.useCases.DeleteUser.execute({ actor, userId: me.userId }); } },
  { name: 'RevokeUserSessions (DELETE /admin/users/:id/sessions)', prepare: async (kit, me) => { const actor = await kit.anAdmin('root@example.com'); return () => kit.useCases.RevokeUserSessions.execute({ actor, userId: me.userId }); } },
  { name: 'UnlockUser (POST /admin/users/:id/unlock)', prepare: async (kit, me) => { const actor = await kit.anAdmin('root@example.com'); return () => kit.useCases.UnlockUser.execute({ actor, userId: me.userId }); } },
  { name: 'SendPasswordReset (POST /admin/users/:id/password-reset)', prepare: async (kit, me) => { const actor = await kit.anAdmin('root@example.com'); return () => kit.useCases.SendPasswordReset.execute({ actor, userId: me.userId }); } },
  {
    name: 'RemoveUserMfa (DELETE /admin/users/:id/mfa)',
    async prepare(kit, me) {
      await enrolled(kit, me);
      const actor = await kit.anAdmin('root@example.com');
      return () => kit.useCases.RemoveUserMfa.execute({ actor, userId: me.userId });
    },
  },
];

/** The changes that take access away, and the links redeemed: each locks the account too. */
const OTHER_CASES: DatedCase[] = [
  ...(['global', 'others', 'local'] as const).map((scope) => ({
    name: `Logout, scope ${scope} (POST /auth/logout)`,
    async prepare(kit: Kit, me: Asker) {
      await kit.signIn({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT }); // another session to end
      return () => kit.useCases.Logout.execute({ ...me, scope, client: CLIENT });
    },
  })),
  {
    name: 'RevokeSession, another session (DELETE /users/me/sessions/:id)',
    async prepare(kit, me) {
      const other = await kit.signIn({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT });
      const sessionId = (await kit.useCases.ValidateAccessToken.execute({ token: other.tokens.accessToken })).claims.sid;
      return () => kit.useCases.RevokeSession.execute({ userId: me.userId, sessionId, currentSessionId: me.sessionId, client: CLIENT });
    },
  },
  {
    name: 'RevokeSession, its own (DELETE /users/me/sessions/:id)',
    prepare: async (kit, me) => () => kit.useCases.RevokeSession.execute({ ...me, currentSessionId: me.sessionId, client: CLIENT }),
  },
  {
    name: 'ConfirmPasswordReset (POST /auth/password/reset/confirm)',
    lockingRun: 2, // the first reads the link's owner, for the password policy
    async prepare(kit) {
      await kit.useCases.RequestPasswordReset.execute({ email: 'alice@example.com', client: CLIENT });
      await kit.settle();
      const token = kit.lastToken('alice@example.com');
      return () => kit.useCases.ConfirmPasswordReset.execute({ token, newPassword: 'another correct horse staple', client: CLIENT });
    },
  },
  {
    name: 'CreateAdmin on an existing account (the CLI)',
    prepare: async (kit) => () => kit.useCases.CreateAdmin.execute({ email: 'alice@example.com', password: 'unused' }),
  },
  {
    name: 'VerifyEmail (POST /auth/verify-email)',
    async prepare(kit) {
      await kit.useCases.RegisterUser.execute({ email: 'bob@example.com', password: PASSWORD, client: CLIENT });
      await kit.settle();
      const token = kit.lastToken('bob@example.com');
      return () => kit.useCases.VerifyEmail.execute({ token, client: CLIENT });
    },
  },
];

/**
 * An outside review (2026-12-07): the changes read their time before waiting for the account's lock, so one that
 * waited behind another change was dated before it (auth.user.deleted with an earlier `time` than the
 * auth.user.updated that committed first; audit entries out of order). Here another transaction takes the lock
 * just as the change asks for it, and the clock moves on while the change waits: every audit entry and event the
 * change writes is dated at or after the moment the lock came free.
 */
describe('a change is dated once it holds the account lock, not before the wait', () => {
  it.each([...CASES, ...ADMIN_CASES, ...OTHER_CASES].map((c) => [c.name, c] as const))('%s', async (_name, { prepare, lockingRun = 1 }: DatedCase) => {
    const kit = await createKit({}, fastPasswordHasher());
    const me = await kit.signedInAs('alice@example.com');
    const call = await prepare(kit, { userId: me.userId, sessionId: me.sessionId });
    await kit.settle();
    const [audits, events] = [kit.db.tables.auditEvents.length, kit.db.tables.outbox.length];
    let release = () => {};
    let holder: Promise<unknown> | null = null;
    let queued = () => {};
    const waiting = new Promise<void>((resolve) => (queued = resolve));
    let runs = 0;
    const run = kit.uow.run.bind(kit.uow);
    for (const method of ['run', 'runIfUnchanged'] as const) {
      const original = kit.uow[method].bind(kit.uow) as (...args: unknown[]) => Promise<unknown>;
      jest.spyOn(kit.uow, method).mockImplementation(((...args: unknown[]) => {
        runs += 1;
        if (runs === lockingRun) {
          // Another transaction holds the lock first; the change queues behind it.
          holder = run(() => new Promise<void>((resolve) => (release = resolve)));
          queued();
        }
        return original(...args);
      }) as never);
    }
    const change = call();
    await waiting;
    kit.clock.advance(5);
    const freed = kit.clock.now().getTime();
    release();
    await holder;
    await change;
    await kit.settle();
    const written = [
      ...kit.db.tables.auditEvents.slice(audits).map((entry) => entry.occurredAt.getTime()),
      ...kit.db.tables.outbox.slice(events).map((row) => Date.parse(row.event.time)),
    ];
    expect(written.length).toBeGreaterThan(0);
    expect(written.filter((at) => !(at >= freed))).toEqual([]);
  });
});
