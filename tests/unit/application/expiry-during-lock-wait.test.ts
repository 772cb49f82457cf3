import { InMemoryUserRepository } from '@infrastructure/persistence/memory/in-memory-user.repository';
import { OtpauthTotp } from '@infrastructure/security/otp/otpauth-totp';
import { CLIENT, PASSWORD, createKit, sidOf } from './support/test-kit';

type Kit = Awaited<ReturnType<typeof createKit>>;

/**
 * A review of clocks (stop 65): a link or a pending MFA login was judged unexpired before the request waited on the
 * user's row lock, and consumed after it without a second look, so one that expired during the wait (a lock held by
 * a concurrent change, a slow database: up to the query deadline) still worked. The clock here moves past the expiry
 * while the user's row is being locked, as a real wait would.
 */
function expireDuringLockWait(kit: Kit, seconds: number): void {
  const original = InMemoryUserRepository.prototype.findByIdForUpdate;
  jest.spyOn(InMemoryUserRepository.prototype, 'findByIdForUpdate').mockImplementation(async function (this: InMemoryUserRepository, id: string) {
    kit.clock.advance(seconds);
    return original.call(this, id);
  });
}

afterEach(() => jest.restoreAllMocks());

describe('a one-time token that expires while the request waits for the user row lock', () => {
  it('a verification link: refused, the address still unproven', async () => {
    const kit = await createKit();
    await kit.useCases.RegisterUser.execute({ email: 'alice@example.com', password: PASSWORD, client: CLIENT });
    const token = kit.lastToken('alice@example.com');
    kit.clock.advance(24 * 3600 - 1);
    expireDuringLockWait(kit, 2);
    await expect(kit.useCases.VerifyEmail.execute({ token })).rejects.toMatchObject({ code: 'INVALID_OR_EXPIRED_TOKEN' });
    expect((await kit.repos.users.findByEmail('alice@example.com'))?.emailVerified).toBe(false);
  });

  it('a password-reset link: refused, the password unchanged', async () => {
    const kit = await createKit();
    await kit.registerVerified('alice@example.com');
    await kit.useCases.RequestPasswordReset.execute({ email: 'alice@example.com', client: CLIENT });
    const token = kit.lastToken('alice@example.com');
    kit.clock.advance(3600 - 1);
    expireDuringLockWait(kit, 2);
    const confirm = kit.useCases.ConfirmPasswordReset.execute({ token, newPassword: 'a brand new passphrase', client: CLIENT });
    await expect(confirm).rejects.toMatchObject({ code: 'INVALID_OR_EXPIRED_TOKEN' });
    jest.restoreAllMocks();
    await expect(kit.signIn({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT })).resolves.toBeDefined();
  });

  it('a pending MFA login: refused, no session started', async () => {
    const kit = await createKit();
    const totp = new OtpauthTotp();
    const { user, tokens } = await kit.loggedIn('alice@example.com');
    const sessionId = await sidOf(kit, tokens.accessToken);
    const setup = await kit.useCases.BeginTotpSetup.execute({ userId: user.id, sessionId, client: CLIENT });
    await kit.useCases.EnableTotp.execute({ userId: user.id, sessionId, code: totp.generate(setup.secret, kit.clock.now()), client: CLIENT });
    kit.clock.advance(60);
    const outcome = await kit.useCases.LoginWithPassword.execute({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT });
    if (!outcome.mfaRequired) throw new Error('expected a challenge');
    kit.clock.advance(outcome.expiresInSeconds - 1);
    const code = totp.generate(setup.secret, kit.clock.now());
    const sessionsBefore = kit.db.tables.sessions.size;
    expireDuringLockWait(kit, 2);
    await expect(kit.useCases.VerifyMfaLogin.execute({ mfaToken: outcome.mfaToken, proof: { code }, client: CLIENT })).rejects.toMatchObject({
      code: 'INVALID_CREDENTIALS',
    });
    expect(kit.db.tables.sessions.size).toBe(sessionsBefore);
  });
});
