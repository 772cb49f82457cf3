import { Argon2PasswordHasher } from '@infrastructure/security/argon2/argon2-password-hasher';
import { CLIENT, PASSWORD, createKit } from '../support/test-kit';

const NEW_PASSWORD = 'a brand new passphrase';

type Kit = Awaited<ReturnType<typeof createKit>>;

function resetToken(kit: Kit, to: string): string {
  const mail = kit.mailer.inbox(to).filter((m) => m.subject === 'Reset your password').at(-1);
  const match = mail ? /https:\/\/app\.example\.com\/reset-password\?token=([A-Za-z0-9_-]{43})\n/.exec(mail.text) : null;
  if (!match) throw new Error(`no reset link mailed to ${to}`);
  return match[1]!;
}

describe('RequestPasswordReset / ConfirmPasswordReset', () => {
  it('resets with the mailed link: every session revoked, no login, the old password dead, a notice sent', async () => {
    const kit = await createKit();
    const first = await kit.loggedIn('alice@example.com');
    const second = await kit.signIn({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT });
    await kit.useCases.RequestPasswordReset.execute({ email: 'ALICE@example.com', client: CLIENT });
    const token = resetToken(kit, 'alice@example.com');
    expect(kit.mailer.inbox('alice@example.com').at(-1)?.html).toContain(`https://app.example.com/reset-password?token=${token}`);

    await kit.useCases.ConfirmPasswordReset.execute({ token, newPassword: NEW_PASSWORD, client: CLIENT });
    for (const { tokens } of [first, second]) {
      await expect(kit.useCases.ValidateAccessToken.execute({ token: tokens.accessToken })).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
      await expect(kit.useCases.RefreshSession.execute({ refreshToken: tokens.refreshToken })).rejects.toMatchObject({ code: 'INVALID_REFRESH_TOKEN' });
    }
    expect([...kit.db.tables.sessions.values()].every((s) => s.revokeReason === 'password_reset')).toBe(true);
    await expect(kit.signIn({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT })).rejects.toMatchObject({
      code: 'INVALID_CREDENTIALS',
    });
    await expect(kit.signIn({ identifier: 'alice@example.com', password: NEW_PASSWORD, client: CLIENT })).resolves.toBeDefined();
    expect(kit.mailer.inbox('alice@example.com').map((m) => m.subject)).toContain('Your password was changed');
    expect(kit.eventTypes()).toEqual(expect.arrayContaining(['auth.password.reset_requested', 'auth.password.reset', 'auth.session.revoked']));
    expect(kit.db.tables.auditEvents.map((e) => `${e.type}:${e.outcome}`)).toEqual(
      expect.arrayContaining(['password.reset_requested:success', 'password.reset:success']),
    );
    // The token is in the mail only: not in events, audit entries, the token table or the queued (sealed) email.
    const dump = JSON.stringify([kit.db.tables.outbox, kit.db.tables.auditEvents, [...kit.db.tables.oneTimeTokens.values()], [...kit.db.tables.emails.values()]]);
    expect(dump).not.toContain(token);
  });

  it('a reset token works once, for one hour, and a newer request voids the older one', async () => {
    const kit = await createKit();
    await kit.registerVerified('alice@example.com');
    await kit.useCases.RequestPasswordReset.execute({ email: 'alice@example.com', client: CLIENT });
    const older = resetToken(kit, 'alice@example.com');
    await kit.useCases.RequestPasswordReset.execute({ email: 'alice@example.com', client: CLIENT });
    const newer = resetToken(kit, 'alice@example.com');
    const confirm = (token: string) => kit.useCases.ConfirmPasswordReset.execute({ token, newPassword: NEW_PASSWORD, client: CLIENT });
    await expect(confirm(older)).rejects.toMatchObject({ code: 'INVALID_OR_EXPIRED_TOKEN' });

    kit.clock.advance(3600);
    await expect(confirm(newer)).rejects.toMatchObject({ code: 'INVALID_OR_EXPIRED_TOKEN' });

    await kit.useCases.RequestPasswordReset.execute({ email: 'alice@example.com', client: CLIENT });
    const fresh = resetToken(kit, 'alice@example.com');
    kit.clock.advance(3599);
    await confirm(fresh);
    await expect(confirm(fresh)).rejects.toMatchObject({ code: 'INVALID_OR_EXPIRED_TOKEN' });
  });

  it('a weak new password is refused without spending the token', async () => {
    const kit = await createKit();
    await kit.registerVerified('alice@example.com');
    await kit.useCases.RequestPasswordReset.execute({ email: 'alice@example.com', client: CLIENT });
    const token = resetToken(kit, 'alice@example.com');
    await expect(kit.useCases.ConfirmPasswordReset.execute({ token, newPassword: 'short', client: CLIENT })).rejects.toMatchObject({ code: 'WEAK_PASSWORD' });
    await expect(kit.useCases.ConfirmPasswordReset.execute({ token, newPassword: NEW_PASSWORD, client: CLIENT })).resolves.toBeUndefined();
  });

  it('clears failed attempts and a lockout', async () => {
    const kit = await createKit();
    const user = await kit.registerVerified('alice@example.com');
    const state = user.toState();
    const lockedUntil = new Date(kit.clock.now().getTime() + 3600_000);
    kit.overwriteUser({ ...state, credentials: { ...state.credentials, failedAttempts: 7, lockedUntil } });
    await kit.useCases.RequestPasswordReset.execute({ email: 'alice@example.com', client: CLIENT });
    await kit.useCases.ConfirmPasswordReset.execute({ token: resetToken(kit, 'alice@example.com'), newPassword: NEW_PASSWORD, client: CLIENT });
    const after = (await kit.repos.users.findById(user.id))!.credentials;
    expect({ failedAttempts: after.failedAttempts, lockedUntil: after.lockedUntil }).toEqual({ failedAttempts: 0, lockedUntil: null });
  });

  it('unknown addresses get nothing; unverified ones get a link, and using it verifies the address', async () => {
    const kit = await createKit();
    await expect(kit.useCases.RequestPasswordReset.execute({ email: 'nobody@example.com', client: CLIENT })).resolves.toBeUndefined();
    expect(kit.mailer.sent).toHaveLength(0);
    expect(kit.db.tables.auditEvents.map((e) => [e.type, e.outcome, e.reason])).toEqual([['password.reset_requested', 'failure', 'unknown_account']]);

    await kit.useCases.RegisterUser.execute({ email: 'bob@example.com', password: PASSWORD, client: CLIENT });
    await kit.useCases.RequestPasswordReset.execute({ email: 'bob@example.com', client: CLIENT });
    await kit.useCases.ConfirmPasswordReset.execute({ token: resetToken(kit, 'bob@example.com'), newPassword: NEW_PASSWORD, client: CLIENT });
    const bob = await kit.repos.users.findByEmail('bob@example.com');
    expect({ verified: bob?.emailVerified, status: bob?.status }).toEqual({ verified: true, status: 'active' });
  });
});

describe('ChangePassword', () => {
  it('keeps the current session, revokes the others, and mails a notice', async () => {
    const kit = await createKit();
    const current = await kit.loggedIn('alice@example.com');
    const other = await kit.signIn({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT });
    const { claims } = await kit.useCases.ValidateAccessToken.execute({ token: current.tokens.accessToken });
    await kit.useCases.ChangePassword.execute({
      userId: current.user.id,
      sessionId: claims.sid,
      currentPassword: PASSWORD,
      newPassword: NEW_PASSWORD,
      client: CLIENT,
    });
    await expect(kit.useCases.ValidateAccessToken.execute({ token: current.tokens.accessToken })).resolves.toBeDefined();
    await expect(kit.useCases.RefreshSession.execute({ refreshToken: current.tokens.refreshToken })).resolves.toBeDefined();
    await expect(kit.useCases.ValidateAccessToken.execute({ token: other.tokens.accessToken })).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await expect(kit.signIn({ identifier: 'alice@example.com', password: NEW_PASSWORD, client: CLIENT })).resolves.toBeDefined();
    expect(kit.mailer.inbox('alice@example.com').at(-1)?.subject).toBe('Your password was changed');
    const updated = kit.db.tables.outbox.find((row) => row.event.type === 'auth.credentials.updated');
    expect(updated?.event.data).toEqual({ user_id: current.user.id, changed: ['password'] });
  });

  it('refuses a wrong current password, changes nothing and audits the attempt', async () => {
    const kit = await createKit();
    const { user, tokens } = await kit.loggedIn('alice@example.com');
    const { claims } = await kit.useCases.ValidateAccessToken.execute({ token: tokens.accessToken });
    const attempt = kit.useCases.ChangePassword.execute({
      userId: user.id,
      sessionId: claims.sid,
      currentPassword: 'not the password',
      newPassword: NEW_PASSWORD,
      client: CLIENT,
    });
    await expect(attempt).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    await expect(kit.signIn({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT })).resolves.toBeDefined();
    expect(kit.db.tables.auditEvents.filter((e) => e.type === 'password.changed').map((e) => [e.outcome, e.reason])).toEqual([
      ['failure', 'wrong_password'],
    ]);
  });
});

describe('ChangePassword: one session, at most 5 current-password hashes', () => {
  /** The real hasher, counting the current passwords it checks. */
  class CountingVerifier extends Argon2PasswordHasher {
    verifies = 0;
    override async verify(hash: string, plain: string, signal?: AbortSignal): Promise<boolean> {
      this.verifies += 1;
      return super.verify(hash, plain, signal);
    }
  }

  it('calls that passed the token check before the 5th wrong answer revoked their session are not hashed (10 in a row)', async () => {
    const hasher = new CountingVerifier();
    const kit = await createKit({}, hasher);
    const { user, tokens } = await kit.loggedIn('alice@example.com');
    const { claims } = await kit.useCases.ValidateAccessToken.execute({ token: tokens.accessToken });
    const before = hasher.verifies;
    const codes: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      const attempt = kit.useCases.ChangePassword.execute({ userId: user.id, sessionId: claims.sid, currentPassword: 'not the password', newPassword: NEW_PASSWORD, client: CLIENT });
      codes.push(await attempt.then(() => 'OK', (error: { code: string }) => error.code));
    }
    // The count started afresh after the revocation; the session's later calls find it revoked, as the token check now does.
    expect(codes).toEqual([...Array<string>(5).fill('INVALID_CREDENTIALS'), ...Array<string>(5).fill('INVALID_TOKEN')]);
    expect(hasher.verifies - before).toBe(5);
    expect(kit.db.tables.auditEvents.filter((e) => e.reason === 'wrong_password' || e.reason === 'current_password_failures').map((e) => e.reason)).toEqual([
      ...Array<string>(5).fill('wrong_password'),
      'current_password_failures',
    ]);
  });
});

describe('ConfirmPasswordReset starts the current-password count afresh', () => {
  it('four wrong current passwords before a reset do not make the first typo after it the fifth (a review, stop 65)', async () => {
    const kit = await createKit();
    const { user, tokens } = await kit.loggedIn('alice@example.com');
    const { claims } = await kit.useCases.ValidateAccessToken.execute({ token: tokens.accessToken });
    const change = (sessionId: string, currentPassword: string) =>
      kit.useCases.ChangePassword.execute({ userId: user.id, sessionId, currentPassword, newPassword: 'yet another passphrase 9', client: CLIENT });
    for (let i = 0; i < 4; i += 1) await expect(change(claims.sid, 'not the password')).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    await kit.useCases.RequestPasswordReset.execute({ email: 'alice@example.com', client: CLIENT });
    await kit.useCases.ConfirmPasswordReset.execute({ token: resetToken(kit, 'alice@example.com'), newPassword: NEW_PASSWORD, client: CLIENT });
    const again = await kit.signIn({ identifier: 'alice@example.com', password: NEW_PASSWORD, client: CLIENT });
    const sid = (await kit.useCases.ValidateAccessToken.execute({ token: again.tokens.accessToken })).claims.sid;
    await expect(change(sid, 'a typo of the new one')).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    // One failure after the reset, not the fifth: the new session stands.
    await expect(kit.useCases.ValidateAccessToken.execute({ token: again.tokens.accessToken })).resolves.toBeDefined();
    expect(kit.db.tables.auditEvents.filter((e) => e.reason === 'current_password_failures')).toEqual([]);
  });
});

describe('ConfirmPasswordReset costs nothing for a token that cannot work (finding 9)', () => {
  /** The real hasher, counting the hashes it computes. */
  class CountingHasher extends Argon2PasswordHasher {
    hashes = 0;
    override async hash(plain: string): Promise<string> {
      this.hashes += 1;
      return super.hash(plain);
    }
  }

  it('looks the token up before hashing: unknown, used and expired tokens cost no argon2 hash', async () => {
    const hasher = new CountingHasher();
    const kit = await createKit({}, hasher);
    await kit.registerVerified('alice@example.com');
    await kit.useCases.RequestPasswordReset.execute({ email: 'alice@example.com', client: CLIENT });
    const token = resetToken(kit, 'alice@example.com');
    const before = hasher.hashes;
    const confirm = (t: string) => kit.useCases.ConfirmPasswordReset.execute({ token: t, newPassword: NEW_PASSWORD, client: CLIENT });
    for (let i = 0; i < 5; i += 1) await expect(confirm(`random-${i}-${'x'.repeat(40)}`)).rejects.toMatchObject({ code: 'INVALID_OR_EXPIRED_TOKEN' });
    expect(hasher.hashes).toBe(before);
    await confirm(token);
    expect(hasher.hashes).toBe(before + 1);
    await expect(confirm(token)).rejects.toMatchObject({ code: 'INVALID_OR_EXPIRED_TOKEN' });
    await kit.useCases.RequestPasswordReset.execute({ email: 'alice@example.com', client: CLIENT });
    const late = resetToken(kit, 'alice@example.com');
    kit.clock.advance(3601);
    await expect(confirm(late)).rejects.toMatchObject({ code: 'INVALID_OR_EXPIRED_TOKEN' });
    expect(hasher.hashes).toBe(before + 1);
  });
});
