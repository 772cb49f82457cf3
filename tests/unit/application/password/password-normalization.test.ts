import { Argon2PasswordHasher } from '@infrastructure/security/argon2/argon2-password-hasher';
import { FAST_ARGON2_PARAMS } from '../../../support/kit';
import { CLIENT, createKit } from '../support/test-kit';

// The reviewer's password: é precomposed (NFC, U+00E9), and as e + U+0301 (NFD, as macOS and some keyboards send it).
const NFC = 'caf\u00e9 au lait avec croissant 9';
const NFD = 'cafe\u0301 au lait avec croissant 9';
const NEW_NFC = 'cr\u00e8me br\u00fbl\u00e9e pour le d\u00e9jeuner 7';
const NEW_NFD = NEW_NFC.normalize('NFD');

/** The real adapter at the suite's low parameters, counting verifies (verifyDummy's included: it calls verify). */
class CountingHasher extends Argon2PasswordHasher {
  verifies = 0;
  constructor() {
    super(FAST_ARGON2_PARAMS);
  }
  override verify(hash: string, plain: string, signal?: AbortSignal): Promise<boolean> {
    this.verifies += 1;
    return super.verify(hash, plain, signal);
  }
}

async function kitWith(email: string, password: string) {
  const hasher = new CountingHasher();
  const kit = await createKit({}, hasher);
  await kit.useCases.RegisterUser.execute({ email, password, client: CLIENT });
  await kit.useCases.VerifyEmail.execute({ token: kit.lastToken(email) });
  return { kit, hasher };
}

const storedHash = async (kit: Awaited<ReturnType<typeof createKit>>, email: string) => (await kit.repos.users.findByEmail(email))!.credentials.passwordHash!;

describe('Passwords are NFKC-normalised (NIST SP 800-63B 5.1.1.2)', () => {
  it('registered in NFC, logs in typed in NFD; registered in NFD, logs in typed in NFC', async () => {
    const { kit } = await kitWith('alice@example.com', NFC);
    await expect(kit.signIn({ identifier: 'alice@example.com', password: NFD, client: CLIENT })).resolves.toBeDefined();
    await kit.useCases.RegisterUser.execute({ email: 'bob@example.com', password: NFD, client: CLIENT });
    await kit.useCases.VerifyEmail.execute({ token: kit.lastToken('bob@example.com') });
    await expect(kit.signIn({ identifier: 'bob@example.com', password: NFC, client: CLIENT })).resolves.toBeDefined();
    await expect(kit.signIn({ identifier: 'bob@example.com', password: NFD, client: CLIENT })).resolves.toBeDefined();
  });

  it('an account hashed from the raw NFD form (before normalisation) logs in with it and is rehashed normalised', async () => {
    const { kit, hasher } = await kitWith('alice@example.com', NFC);
    const user = (await kit.repos.users.findByEmail('alice@example.com'))!;
    const legacy = await hasher.hash(NFD); // what the service stored before passwords were normalised
    const state = user.toState();
    const password = { type: 'password' as const, hash: legacy, changedAt: kit.clock.now() };
    kit.overwriteUser({ ...state, credentials: { ...state.credentials, byType: { ...state.credentials.byType, password } } });
    expect(await storedHash(kit, 'alice@example.com')).toBe(legacy);
    expect(await hasher.verify(legacy, NFC)).toBe(false);

    await expect(kit.signIn({ identifier: 'alice@example.com', password: NFD, client: CLIENT })).resolves.toBeDefined();
    const rehashed = await storedHash(kit, 'alice@example.com');
    expect(rehashed).not.toBe(legacy);
    expect(await hasher.verify(rehashed, NFC)).toBe(true);
    // Now either form opens it, each with one verify.
    hasher.verifies = 0;
    await kit.signIn({ identifier: 'alice@example.com', password: NFC, client: CLIENT });
    await kit.signIn({ identifier: 'alice@example.com', password: NFD, client: CLIENT });
    expect(hasher.verifies).toBe(2);
  });

  it('a wrong password NFKC changes is one failure, and costs an unknown account the same verifies as a known one', async () => {
    const { kit, hasher } = await kitWith('alice@example.com', NFC);
    const wrong = 'cafe\u0301 au lait sans croissant 9';
    hasher.verifies = 0;
    await expect(kit.signIn({ identifier: 'alice@example.com', password: wrong, client: CLIENT })).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    const known = hasher.verifies;
    hasher.verifies = 0;
    await expect(kit.signIn({ identifier: 'nobody@example.com', password: wrong, client: CLIENT })).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect({ known, unknown: hasher.verifies }).toEqual({ known: 2, unknown: 2 });
    await kit.settle();
    expect((await kit.repos.users.findByEmail('alice@example.com'))!.credentials.failedAttempts).toBe(1);
    expect(kit.db.tables.auditEvents.filter((e) => e.type === 'login.failed' && e.subjectId !== null)).toHaveLength(1);
    // Three more (four of the five the lockout allows): not locked, the right password still opens it.
    for (let i = 0; i < 3; i += 1) {
      await expect(kit.signIn({ identifier: 'alice@example.com', password: wrong, client: CLIENT })).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    }
    await expect(kit.signIn({ identifier: 'alice@example.com', password: NFD, client: CLIENT })).resolves.toBeDefined();
  });

  it('password reset and change normalise the new password, and the current-password check accepts either form', async () => {
    const { kit } = await kitWith('alice@example.com', NFC);
    await kit.useCases.RequestPasswordReset.execute({ email: 'alice@example.com', client: CLIENT });
    const token = kit.lastToken('alice@example.com');
    await kit.useCases.ConfirmPasswordReset.execute({ token, newPassword: NEW_NFD, client: CLIENT });
    const signedIn = await kit.signIn({ identifier: 'alice@example.com', password: NEW_NFC, client: CLIENT });
    const claims = await kit.tokens.verify(signedIn.tokens.accessToken);
    const me = { userId: signedIn.user.id, sessionId: 'sid' in claims ? claims.sid : '' };

    await kit.useCases.UpdateCredentials.execute({ ...me, currentPassword: NEW_NFD, username: 'alice', client: CLIENT });
    await kit.useCases.ChangePassword.execute({ ...me, currentPassword: NEW_NFD, newPassword: NFD, client: CLIENT });
    await expect(kit.signIn({ identifier: 'alice@example.com', password: NFC, client: CLIENT })).resolves.toBeDefined();
  });
});
