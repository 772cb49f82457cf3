import { DomainError } from '@domain/shared/domain-error';
import { CLIENT, PASSWORD, createKit } from '../support/test-kit';

const WRONG = 'not the password at all';
type Kit = Awaited<ReturnType<typeof createKit>>;

/** The error a login attempt ends with (they all fail here), with what the caller can see of it. */
async function attempt(kit: Kit, identifier: string, password = WRONG) {
  try {
    await kit.signIn({ identifier, password, client: CLIENT });
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return { code: error.code, message: error.message, details: error.details, retryAfter: error.retryAfterSeconds };
  }
  return { code: 'OK' };
}

/** `times` wrong passwords in a row; then their bookkeeping, which follows each answer, is waited for. */
async function failTimes(kit: Kit, identifier: string, times: number) {
  for (let i = 0; i < times; i += 1) await expect(attempt(kit, identifier)).resolves.toMatchObject({ code: 'INVALID_CREDENTIALS' });
  await kit.settle();
}

describe('login lockout (LoginWithPassword on the in-memory lockout)', () => {
  it('locks an identifier after 5 consecutive failures for 15 minutes; even the right password waits', async () => {
    const kit = await createKit();
    await kit.registerVerified('alice@example.com');
    await failTimes(kit, 'alice@example.com', 5);
    await expect(attempt(kit, 'alice@example.com', PASSWORD)).resolves.toEqual({
      code: 'ACCOUNT_LOCKED',
      message: 'Too many failed login attempts. Try again later.',
      details: undefined,
      retryAfter: 900,
    });
    kit.clock.advance(899);
    await expect(attempt(kit, 'ALICE@Example.com ', PASSWORD)).resolves.toMatchObject({ code: 'ACCOUNT_LOCKED', retryAfter: 1 });
    kit.clock.advance(1);
    await expect(attempt(kit, 'alice@example.com', PASSWORD)).resolves.toEqual({ code: 'OK' });
  });

  it('answers an unknown identifier exactly like an existing one, lock and wait included', async () => {
    const kit = await createKit();
    await kit.registerVerified('alice@example.com');
    await failTimes(kit, 'alice@example.com', 5);
    await failTimes(kit, 'nobody@example.com', 5);
    const known = await attempt(kit, 'alice@example.com');
    const unknown = await attempt(kit, 'nobody@example.com');
    expect(unknown).toEqual(known);
    expect(known).toMatchObject({ code: 'ACCOUNT_LOCKED', retryAfter: 900 });
  });

  it('doubles the lock on repeat (15 min, then 30 min) and a successful login starts afresh', async () => {
    const kit = await createKit();
    await kit.registerVerified('alice@example.com');
    await failTimes(kit, 'alice@example.com', 5);
    kit.clock.advance(900);
    await failTimes(kit, 'alice@example.com', 5);
    await expect(attempt(kit, 'alice@example.com')).resolves.toMatchObject({ code: 'ACCOUNT_LOCKED', retryAfter: 1800 });
    kit.clock.advance(1800);
    await failTimes(kit, 'alice@example.com', 4);
    await kit.signIn({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT });
    // The four failures before the success no longer count, and the next lock is the first again.
    await failTimes(kit, 'alice@example.com', 5);
    await expect(attempt(kit, 'alice@example.com')).resolves.toMatchObject({ code: 'ACCOUNT_LOCKED', retryAfter: 900 });
  });

  it('answers a failed login before its bookkeeping, alike for an existing account and an unknown one', async () => {
    const kit = await createKit();
    const alice = await kit.registerVerified('alice@example.com');
    for (const [identifier, reason] of [['alice@example.com', 'wrong_password'], ['nobody@example.com', 'unknown_account']] as const) {
      const audit = kit.db.tables.auditEvents.length;
      const outbox = kit.db.tables.outbox.length;
      await expect(kit.useCases.LoginWithPassword.execute({ identifier, password: WRONG, client: CLIENT })).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
      // The answer is out: nothing written yet for either kind, the bookkeeping still to run.
      expect({ identifier, pending: kit.deferred.pending, audit: kit.db.tables.auditEvents.length, outbox: kit.db.tables.outbox.length }).toEqual({ identifier, pending: 1, audit, outbox });
      await kit.settle();
      expect(kit.db.tables.auditEvents.at(-1)).toMatchObject({ type: 'login.failed', reason });
    }
    // The existing account's row and event, written after the answer.
    expect((await kit.repos.users.findById(alice.id))?.credentials.failedAttempts).toBe(1);
    expect(kit.eventTypes().filter((type) => type === 'auth.user.login_failed')).toHaveLength(1);
  });

  it('records auth.account.locked for an existing account, and audit entries for both kinds', async () => {
    const kit = await createKit();
    const alice = await kit.registerVerified('alice@example.com');
    await failTimes(kit, 'alice@example.com', 5);
    await failTimes(kit, 'nobody@example.com', 5);
    await attempt(kit, 'alice@example.com');
    const locked = kit.db.tables.outbox.filter((row) => row.event.type === 'auth.account.locked');
    expect(locked.map((row) => row.event.subject)).toEqual([alice.id]);
    expect((await kit.repos.users.findById(alice.id))?.credentials.lockedUntil).toEqual(new Date(kit.clock.now().getTime() + 900_000));
    const audit = kit.db.tables.auditEvents;
    expect(audit.filter((e) => e.type === 'account.locked').map((e) => e.subjectId)).toEqual([alice.id, null]);
    expect(audit.filter((e) => e.type === 'login.failed').map((e) => e.reason)).toEqual([
      ...Array(5).fill('wrong_password'),
      ...Array(5).fill('unknown_account'),
      'locked',
    ]);
    const login = audit.filter((e) => e.type === 'login.failed' || e.type === 'account.locked');
    expect(login.every((e) => e.ip === CLIENT.ip && e.userAgent === CLIENT.userAgent)).toBe(true);
  });

  it('counts email and username as separate identifiers, and never blocks the password reset request', async () => {
    const kit = await createKit();
    await kit.useCases.RegisterUser.execute({ email: 'alice@example.com', password: PASSWORD, username: 'alice', client: CLIENT });
    await kit.useCases.VerifyEmail.execute({ token: kit.lastToken('alice@example.com') });
    await failTimes(kit, 'alice', 5);
    await expect(attempt(kit, 'Alice')).resolves.toMatchObject({ code: 'ACCOUNT_LOCKED' });
    await expect(attempt(kit, 'alice@example.com', PASSWORD)).resolves.toEqual({ code: 'OK' });
    await expect(kit.useCases.RequestPasswordReset.execute({ email: 'alice@example.com', client: CLIENT })).resolves.toBeUndefined();
  });

  it('a successful login clears the account\'s other identifiers, and leaves an attempt reserved on its own one since', async () => {
    const kit = await createKit();
    await kit.useCases.RegisterUser.execute({ email: 'alice@example.com', password: PASSWORD, username: 'alice', client: CLIENT });
    await kit.useCases.VerifyEmail.execute({ token: kit.lastToken('alice@example.com') });
    await failTimes(kit, 'alice', 4);
    const clear = jest.spyOn(kit.lockout, 'clear');
    // An attempt on the same email reserves its place while this login is between succeed() and the end.
    const succeed = kit.lockout.succeed.bind(kit.lockout);
    jest.spyOn(kit.lockout, 'succeed').mockImplementationOnce(async (key, now) => {
      const verdict = await succeed(key, now);
      await kit.lockout.reserve(key, now);
      return verdict;
    });
    await expect(attempt(kit, 'alice@example.com', PASSWORD)).resolves.toEqual({ code: 'OK' });
    // succeed() cleared the email; the username is cleared once; the email is not cleared again.
    expect(clear.mock.calls).toEqual([['alice']]);
    // The username's four failures are gone: four more do not lock it.
    await failTimes(kit, 'alice', 4);
    // The email's reserved attempt still counts: 4 failures + 1 in flight reach the threshold of 5 (a retry, not a lock).
    await failTimes(kit, 'alice@example.com', 4);
    await expect(attempt(kit, 'alice@example.com', PASSWORD)).resolves.toMatchObject({ code: 'RATE_LIMITED', retryAfter: 1 });
  });

  it('a successful password reset clears the lockout of every identifier of the account', async () => {
    const kit = await createKit();
    await kit.useCases.RegisterUser.execute({ email: 'alice@example.com', password: PASSWORD, username: 'alice', client: CLIENT });
    await kit.useCases.VerifyEmail.execute({ token: kit.lastToken('alice@example.com') });
    await failTimes(kit, 'alice@example.com', 5);
    await failTimes(kit, 'alice', 5);
    await kit.useCases.RequestPasswordReset.execute({ email: 'alice@example.com', client: CLIENT });
    const newPassword = 'an entirely new passphrase 42';
    await kit.useCases.ConfirmPasswordReset.execute({ token: kit.lastToken('alice@example.com'), newPassword, client: CLIENT });
    await expect(attempt(kit, 'alice@example.com', newPassword)).resolves.toEqual({ code: 'OK' });
    await expect(attempt(kit, 'alice', newPassword)).resolves.toEqual({ code: 'OK' });
  });
});
