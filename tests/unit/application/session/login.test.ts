import { PORTS } from '@application/ports/tokens';
import { LoginWithPassword } from '@application/session/login-with-password';
import { Argon2PasswordHasher } from '@infrastructure/security/argon2/argon2-password-hasher';
import { CLIENT, PASSWORD, createKit } from '../support/test-kit';

describe('LoginWithPassword', () => {
  it('logs in by email or username and starts a session with a signed access token', async () => {
    const kit = await createKit();
    await kit.useCases.RegisterUser.execute({ email: 'alice@example.com', password: PASSWORD, username: 'alice', client: CLIENT });
    await kit.useCases.VerifyEmail.execute({ token: kit.lastToken('alice@example.com') });
    const byEmail = await kit.signIn({ identifier: 'ALICE@example.com ', password: PASSWORD, client: CLIENT });
    const byName = await kit.signIn({ identifier: 'Alice', password: PASSWORD, client: CLIENT });
    expect(byEmail.user.id).toBe(byName.user.id);
    const principal = await kit.useCases.ValidateAccessToken.execute({ token: byEmail.tokens.accessToken });
    expect(principal.claims).toMatchObject({ sub: byEmail.user.id, amr: ['pwd'], email_verified: true, roles: ['user'] });
    expect(principal.claims).not.toHaveProperty('email');
    expect(kit.eventTypes().filter((t) => t === 'auth.user.logged_in')).toHaveLength(2);
    expect((await kit.repos.users.findById(byEmail.user.id))?.toState().lastLoginAt).toEqual(kit.clock.now());
  });

  it('a change to the account between the read and the write sends the login down the locked path: one verdict, one session, the change kept', async () => {
    const kit = await createKit();
    const { id } = await kit.registerVerified('alice@example.com');
    const original = kit.lockout.succeed.bind(kit.lockout);
    const succeed = jest.spyOn(kit.lockout, 'succeed');
    // The account changes after the read (between the verify and the guarded write): a profile edit commits.
    succeed.mockImplementationOnce(async (key, now) => {
      await kit.uow.run(async (tx) => {
        const user = (await tx.users.findByIdForUpdate(id))!;
        user.updateProfile({ firstName: 'Changed' }, now);
        await tx.users.save(user);
      });
      return original(key, now);
    });
    const signedIn = await kit.signIn({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT });
    expect(succeed).toHaveBeenCalledTimes(1); // asked once: the locked path reuses the verdict
    const stored = (await kit.repos.users.findById(id))!.toState();
    expect(stored.firstName).toBe('Changed'); // not overwritten by the login's copy read before it
    expect(stored.lastLoginAt).toEqual(kit.clock.now());
    expect(kit.eventTypes().filter((t) => t === 'auth.user.logged_in')).toHaveLength(1);
    const sessions = await kit.repos.sessions.findActiveByUser(id, kit.clock.now());
    expect(sessions.map((session) => session.id)).toEqual([(await kit.useCases.ValidateAccessToken.execute({ token: signedIn.tokens.accessToken })).claims.sid]);
  });

  it('answers an unknown account and a wrong password with the same error', async () => {
    const kit = await createKit();
    await kit.registerVerified('alice@example.com');
    const wrong = kit.signIn({ identifier: 'alice@example.com', password: 'wrong password!', client: CLIENT });
    const unknown = kit.signIn({ identifier: 'nobody@example.com', password: PASSWORD, client: CLIENT });
    const [a, b] = await Promise.allSettled([wrong, unknown]);
    expect(a.status).toBe('rejected');
    expect(b.status).toBe('rejected');
    const [ea, eb] = [(a as PromiseRejectedResult).reason, (b as PromiseRejectedResult).reason];
    expect({ code: ea.code, message: ea.message }).toEqual({ code: eb.code, message: eb.message });
    expect(ea.code).toBe('INVALID_CREDENTIALS');
    await kit.settle(); // the failure's bookkeeping follows the answer
    const user = await kit.repos.users.findByEmail('alice@example.com');
    expect(user?.credentials.failedAttempts).toBe(1);
    expect(kit.eventTypes()).toContain('auth.user.login_failed');
  });

  it('reveals an unverified or suspended account only to someone with the right password', async () => {
    const kit = await createKit();
    await kit.useCases.RegisterUser.execute({ email: 'alice@example.com', password: PASSWORD, client: CLIENT });
    await expect(kit.signIn({ identifier: 'alice@example.com', password: 'wrong password', client: CLIENT })).rejects.toMatchObject({
      code: 'INVALID_CREDENTIALS',
    });
    await expect(kit.signIn({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT })).rejects.toMatchObject({
      code: 'EMAIL_NOT_VERIFIED',
    });
    const user = (await kit.repos.users.findByEmail('alice@example.com'))!;
    kit.overwriteUser({ ...user.toState(), emailVerified: true, status: 'suspended' });
    await expect(kit.signIn({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT })).rejects.toMatchObject({
      code: 'ACCOUNT_DISABLED',
    });
  });

  it('rehashes the password on login when the argon2 parameters were raised', async () => {
    const kit = await createKit();
    await kit.registerVerified('alice@example.com');
    const stronger = new Argon2PasswordHasher({ memoryCost: 24576, timeCost: 3, parallelism: 1 });
    const login = new LoginWithPassword(kit.repos.users, kit.uow, stronger, kit.issuer, kit.clock, kit.settings, kit.lockout,
      kit.resolve(PORTS.OpaqueTokens), kit.resolve(PORTS.IdGenerator), kit.resolve(PORTS.MfaSettings), kit.deferred);
    await login.execute({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT });
    const hash = (await kit.repos.users.findByEmail('alice@example.com'))!.credentials.passwordHash;
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=24576,t=3,p=1\$/);
    await expect(kit.signIn({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT })).resolves.toBeDefined();
  });
});
