import { OtpauthTotp } from '@infrastructure/security/otp/otpauth-totp';
import { MFA_STEP_UP_SECONDS } from '@application/mfa/regenerate-recovery-codes';
import { CLIENT, PASSWORD, createKit, sidOf } from '../support/test-kit';

type Kit = Awaited<ReturnType<typeof createKit>>;
const totp = new OtpauthTotp();

/**
 * An outside review (2026-12-05): new backup codes needed only the password, and a backup code turns MFA off. A
 * stolen access token of any age plus the password minted ten codes, disabled MFA with one, and from then on the
 * password alone signed in. Now a regeneration also needs a session that proved the second factor in the last 15
 * minutes: a sign-in with a code, or the enabling of MFA by that session.
 */
describe('POST /mfa/backup-codes needs a recent second factor', () => {
  async function enrolled(kit: Kit) {
    const { user, tokens } = await kit.loggedIn('alice@example.com');
    const sessionId = await sidOf(kit, tokens.accessToken);
    const setup = await kit.useCases.BeginTotpSetup.execute({ userId: user.id, sessionId, client: CLIENT });
    const { backupCodes } = await kit.useCases.EnableTotp.execute({ userId: user.id, sessionId, code: totp.generate(setup.secret, kit.clock.now()), client: CLIENT });
    return { userId: user.id, enablingSession: sessionId, secret: setup.secret, backupCodes };
  }

  async function signInWithCode(kit: Kit, secret: string): Promise<string> {
    kit.clock.advance(30); // a code of its own step (the enabling code's step is spent)
    const challenge = await kit.useCases.LoginWithPassword.execute({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT });
    if (!challenge.mfaRequired) throw new Error('expected the second step');
    const { tokens } = await kit.useCases.VerifyMfaLogin.execute({ mfaToken: challenge.mfaToken, proof: { code: totp.generate(secret, kit.clock.now()) }, client: CLIENT });
    return sidOf(kit, tokens.accessToken);
  }

  const regenerate = (kit: Kit, userId: string, sessionId: string) => kit.useCases.RegenerateRecoveryCodes.execute({ userId, sessionId, password: PASSWORD, client: CLIENT });
  const storedCodes = (kit: Kit, userId: string) => kit.db.tables.users.get(userId)?.credentials.byType.recovery_codes;

  it('the enabling session may, for 15 minutes after it turned MFA on; then it is refused and nothing changes', async () => {
    const kit = await createKit();
    const { userId, enablingSession } = await enrolled(kit);
    kit.clock.advance(MFA_STEP_UP_SECONDS - 60);
    await expect(regenerate(kit, userId, enablingSession)).resolves.toMatchObject({ backupCodes: expect.any(Array) });
    kit.clock.advance(120);
    const before = storedCodes(kit, userId);
    const audits = kit.auditTypes().length;
    await expect(regenerate(kit, userId, enablingSession)).rejects.toMatchObject({ code: 'FORBIDDEN', details: { session: ['second_factor_not_recent'] } });
    expect(storedCodes(kit, userId)).toEqual(before);
    // Refused before the password is checked: no attempt audited or counted.
    expect(kit.auditTypes()).toHaveLength(audits);
  });

  it('a session signed in with a code may for 15 minutes after that sign-in, not later; a new sign-in with a code may again', async () => {
    const kit = await createKit();
    const { userId, secret } = await enrolled(kit);
    const signedIn = await signInWithCode(kit, secret);
    kit.clock.advance(MFA_STEP_UP_SECONDS - 30);
    await expect(regenerate(kit, userId, signedIn)).resolves.toMatchObject({ backupCodes: expect.any(Array) });
    kit.clock.advance(60);
    await expect(regenerate(kit, userId, signedIn)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const again = await signInWithCode(kit, secret);
    await expect(regenerate(kit, userId, again)).resolves.toMatchObject({ backupCodes: expect.any(Array) });
  });

  it("the review's chain: an hour-old stolen session and the password can neither mint codes nor, without the owner's codes, turn MFA off", async () => {
    const kit = await createKit();
    const { userId, secret, backupCodes } = await enrolled(kit);
    const stolen = await signInWithCode(kit, secret);
    kit.clock.advance(3600);
    await expect(regenerate(kit, userId, stolen)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(
      kit.useCases.DisableTotp.execute({ userId, sessionId: stolen, password: PASSWORD, proof: { backupCode: 'AAAAA-BBBBB' }, client: CLIENT }),
    ).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect((await kit.repos.users.findById(userId))?.mfaEnabled).toBe(true);
    // The owner's own codes still work (nothing was replaced).
    const challenge = await kit.useCases.LoginWithPassword.execute({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT });
    if (!challenge.mfaRequired) throw new Error('expected the second step');
    await expect(kit.useCases.VerifyMfaLogin.execute({ mfaToken: challenge.mfaToken, proof: { backupCode: backupCodes[0]! }, client: CLIENT })).resolves.toMatchObject({ tokens: expect.any(Object) });
  });
});
