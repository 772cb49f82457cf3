import { PORTS } from '@application/ports/tokens';
import { OtpauthTotp } from '@infrastructure/security/otp/otpauth-totp';
import { CLIENT, PASSWORD, createKit } from '../support/test-kit';

type Kit = Awaited<ReturnType<typeof createKit>>;

const totp = new OtpauthTotp();

/** A verified user with TOTP on (set-up and enable through the use cases); the secret and backup codes. */
async function enrolled(kit: Kit, email = 'alice@example.com') {
  const { user } = await kit.loggedIn(email);
  const setup = await kit.useCases.BeginTotpSetup.execute({ userId: user.id, client: CLIENT });
  const { backupCodes } = await kit.useCases.EnableTotp.execute({ userId: user.id, code: totp.generate(setup.secret, kit.clock.now()), client: CLIENT });
  kit.clock.advance(60);
  return { userId: user.id, secret: setup.secret, backupCodes };
}

describe('MFA use cases (in-memory adapters)', () => {
  it('login answers a challenge, not tokens; the second step signs in with amr pwd+otp and records the login', async () => {
    const kit = await createKit();
    const { secret, userId } = await enrolled(kit);
    const outcome = await kit.useCases.LoginWithPassword.execute({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT });
    expect(outcome).toEqual({ mfaRequired: true, mfaToken: expect.any(String), expiresInSeconds: 300 });
    if (!outcome.mfaRequired) throw new Error('expected a challenge');
    const before = kit.eventTypes().filter((type) => type === 'auth.user.logged_in').length;
    const { tokens } = await kit.useCases.VerifyMfaLogin.execute({ mfaToken: outcome.mfaToken, proof: { code: totp.generate(secret, kit.clock.now()) }, client: CLIENT });
    const claims = await kit.tokens.verify(tokens.accessToken);
    expect(claims).toMatchObject({ sub: userId, amr: ['pwd', 'otp'] });
    expect(kit.eventTypes().filter((type) => type === 'auth.user.logged_in').length).toBe(before + 1);
    expect(kit.auditTypes()).toEqual(expect.arrayContaining(['mfa.setup_started', 'mfa.enabled', 'mfa.challenge_issued', 'login.succeeded']));
  });

  it('support removes MFA: audited with the actor, auth.mfa.disabled carries actor_id, the user is told', async () => {
    const kit = await createKit();
    const { userId } = await enrolled(kit);
    const user = await kit.useCases.RemoveUserMfa.execute({ userId, actorId: 'admin-1', client: CLIENT });
    expect(user.mfaEnabled).toBe(false);
    const entry = kit.db.tables.auditEvents.find((e) => e.type === 'mfa.disabled');
    expect(entry).toMatchObject({ actorId: 'admin-1', subjectId: userId, outcome: 'success', reason: 'removed_by_admin' });
    const event = kit.db.tables.outbox.find((row) => row.event.type === 'auth.mfa.disabled');
    expect(event?.event.data).toEqual({ user_id: userId, method: 'totp', actor_id: 'admin-1' });
    expect(kit.mailer.inbox('alice@example.com').at(-1)?.text).toContain('our support team removed two-factor authentication');
    // Nothing to remove a second time: no second event.
    await kit.useCases.RemoveUserMfa.execute({ userId, actorId: 'admin-1', client: CLIENT });
    expect(kit.db.tables.outbox.filter((row) => row.event.type === 'auth.mfa.disabled')).toHaveLength(1);
    await expect(kit.useCases.RemoveUserMfa.execute({ userId: '00000000-0000-4000-8000-000000000000', actorId: 'admin-1', client: CLIENT })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const outcome = await kit.useCases.LoginWithPassword.execute({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT });
    expect(outcome.mfaRequired).toBe(false);
  });

  it('neither the secret nor a backup code reaches an event, an audit entry, a log line or an email', async () => {
    const kit = await createKit();
    const { secret, backupCodes, userId } = await enrolled(kit);
    const outcome = await kit.useCases.LoginWithPassword.execute({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT });
    if (!outcome.mfaRequired) throw new Error('expected a challenge');
    await kit.useCases.VerifyMfaLogin.execute({ mfaToken: outcome.mfaToken, proof: { backupCode: backupCodes[0]! }, client: CLIENT });
    await kit.useCases.RemoveUserMfa.execute({ userId, actorId: 'admin-1', client: CLIENT });
    const everything = JSON.stringify([kit.db.tables.outbox, kit.db.tables.auditEvents, kit.senderLogs, kit.mailer.inbox('alice@example.com')]);
    for (const needle of [secret, ...backupCodes, ...backupCodes.map((c: string) => c.replace(/-/g, '')), outcome.mfaToken]) expect(everything).not.toContain(needle);
    expect(kit.mailer.inbox('alice@example.com').map((m) => m.subject)).toContain('A backup code was used to sign in');
  });

  it('recovery codes: 60 bits in a readable form, hashed under a key (another key, another hash), typed loosely', () => {
    return createKit().then((kit) => {
      const codes = kit.recoveryCodes.generate(10);
      expect(new Set(codes).size).toBe(10);
      const code = codes[0]!;
      expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/);
      const hash = kit.recoveryCodes.hash(code);
      expect(hash).not.toContain(code.replace(/-/g, ''));
      expect(kit.recoveryCodes.hash(` ${code.toUpperCase().replace(/-/g, ' ')} `)).toBe(hash);
      expect(kit.recoveryCodes.hash(code.replace(/0/g, 'o').replace(/1/g, 'l'))).toBe(hash);
      expect(kit.recoveryCodes.hash('too-short')).toBeNull();
      expect(kit.recoveryCodes.hash('uuuu-uuuu-uuuu')).toBeNull();
      expect(kit.resolve(PORTS.RecoveryCodes).hash(code)).toBe(hash);
      return createKit().then((other) => expect(other.recoveryCodes.hash(code)).not.toBe(hash));
    });
  });
});
