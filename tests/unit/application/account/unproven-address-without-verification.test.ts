import { OtpauthTotp } from '@infrastructure/security/otp/otpauth-totp';
import { CLIENT, PASSWORD, createKit, sidOf } from '../support/test-kit';

const totp = new OtpauthTotp();

/**
 * REQUIRE_EMAIL_VERIFICATION=false (an outside review, stop 48): a sign-up was marked verified, in the user
 * resource, the registered event and the access token's email_verified claim, for whoever typed the address; and a
 * squatter's second factor survived the owner's password reset, locking the owner out behind it. Now the account
 * signs in at once but its address is unproven until a verification link or a reset proves it, and a reset that is
 * the first proof of an address someone chose a password for takes that person's second factor and profile away.
 */
describe('REQUIRE_EMAIL_VERIFICATION=false: an address nobody proved is not called verified', () => {
  it('signs in at once, unverified (resource, event, claim); the resent verification link proves it', async () => {
    const kit = await createKit({ requireEmailVerification: false });
    const result = await kit.useCases.RegisterUser.execute({ email: 'bob@example.com', password: PASSWORD, client: CLIENT });
    if (result.kind !== 'created') throw new Error('expected created');
    expect([result.user.status, result.user.emailVerified]).toEqual(['active', false]);
    const claims = await kit.tokens.verify(result.tokens.accessToken);
    expect(claims).toMatchObject({ email_verified: false });
    const registered = kit.db.tables.outbox.map((row) => row.event).find((event) => event.type === 'auth.user.registered');
    expect(registered?.data).toMatchObject({ email_verified: false });
    await kit.useCases.ResendVerification.execute({ email: 'bob@example.com', client: CLIENT });
    await kit.useCases.VerifyEmail.execute({ token: kit.lastToken('bob@example.com') });
    const user = await kit.repos.users.findByEmail('bob@example.com');
    expect([user?.status, user?.emailVerified]).toEqual(['active', true]);
  });

  it('an email change that first proves an address is auth.user.email_verified, once (a review of account flows, stop 65)', async () => {
    const kit = await createKit({ requireEmailVerification: false });
    const result = await kit.useCases.RegisterUser.execute({ email: 'dana@example.com', password: PASSWORD, client: CLIENT });
    if (result.kind !== 'created') throw new Error('expected created');
    const sessionId = await sidOf(kit, result.tokens.accessToken);
    const change = (email: string) => kit.useCases.UpdateCredentials.execute({ userId: result.user.id, sessionId, currentPassword: PASSWORD, email, client: CLIENT });
    await change('dana@work.example');
    await kit.useCases.VerifyEmail.execute({ token: kit.lastToken('dana@work.example') });
    const verified = () => kit.db.tables.outbox.map((row) => row.event).filter((event) => event.type === 'auth.user.email_verified');
    expect(verified().map((event) => event.data)).toEqual([{ user_id: result.user.id, email: 'dana@work.example' }]);
    // A later change moves a proven address: no second one.
    await change('dana@home.example');
    await kit.useCases.VerifyEmail.execute({ token: kit.lastToken('dana@home.example') });
    expect(verified()).toHaveLength(1);
  });

  it("the owner's reset takes the squatter's second factor and profile: the owner signs in with the new password alone", async () => {
    const kit = await createKit({ requireEmailVerification: false });
    const squatter = await kit.useCases.RegisterUser.execute({
      email: 'ceo@corp.example',
      password: PASSWORD,
      username: 'squatter',
      firstName: 'Me at evil',
      client: CLIENT,
    });
    if (squatter.kind !== 'created') throw new Error('expected created');
    const sessionId = await sidOf(kit, squatter.tokens.accessToken);
    const setup = await kit.useCases.BeginTotpSetup.execute({ userId: squatter.user.id, sessionId, client: CLIENT });
    await kit.useCases.EnableTotp.execute({ userId: squatter.user.id, sessionId, code: totp.generate(setup.secret, kit.clock.now()), client: CLIENT });
    // The mailbox's owner takes the account back with a reset.
    await kit.useCases.RequestPasswordReset.execute({ email: 'ceo@corp.example', client: CLIENT });
    await kit.useCases.ConfirmPasswordReset.execute({ token: kit.lastToken('ceo@corp.example'), newPassword: 'the owner chose this one', client: CLIENT });
    const owner = await kit.repos.users.findByEmail('ceo@corp.example');
    expect([owner?.emailVerified, owner?.mfaEnabled, owner?.username, owner?.firstName]).toEqual([true, false, null, null]);
    expect(kit.eventTypes()).toContain('auth.mfa.disabled');
    // Audited as what the reset did (until stop 63 only `password.reset` was: a review), by the link's holder.
    const audited = (type: string) => kit.db.tables.auditEvents.filter((e) => e.type === type).map((e) => [e.actorId, e.subjectId, e.reason]);
    expect([audited('email.verified'), audited('mfa.disabled')]).toEqual([[[squatter.user.id, squatter.user.id, 'password_reset']], [[squatter.user.id, squatter.user.id, 'reset_unproven']]]);
    const login = await kit.useCases.LoginWithPassword.execute({ identifier: 'ceo@corp.example', password: 'the owner chose this one', client: CLIENT });
    expect(login.mfaRequired).toBe(false);
    // The squatter's old password and session are gone too (as with any reset).
    await expect(kit.useCases.LoginWithPassword.execute({ identifier: 'ceo@corp.example', password: PASSWORD, client: CLIENT })).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    await expect(kit.useCases.ValidateAccessToken.execute({ token: squatter.tokens.accessToken })).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
  });

  /**
   * A review of stop 50: discarding the unproven password (an admin confirming the address, a role grant, create-admin,
   * a contested sign-up) left the squatter's second factor. The owner's reset then no longer saw an unproven password
   * to clear it with, and the owner met the squatter's TOTP at login.
   */
  it("an admin confirming the address takes the squatter's second factor with the password: the owner signs in with the link's password alone", async () => {
    const kit = await createKit({ requireEmailVerification: false });
    const admin = await kit.useCases.RegisterUser.execute({ email: 'support@example.com', password: PASSWORD, client: CLIENT });
    if (admin.kind !== 'created') throw new Error('expected created');
    await kit.useCases.ResendVerification.execute({ email: 'support@example.com', client: CLIENT });
    await kit.useCases.VerifyEmail.execute({ token: kit.lastToken('support@example.com') });
    await kit.useCases.CreateAdmin.execute({ email: 'support@example.com', password: 'unused' });
    const actor = { id: admin.user.id, sessionId: await sidOf(kit, admin.tokens.accessToken), client: CLIENT };
    const squatter = await kit.useCases.RegisterUser.execute({ email: 'victim@corp.example', password: PASSWORD, client: CLIENT });
    if (squatter.kind !== 'created') throw new Error('expected created');
    const sessionId = await sidOf(kit, squatter.tokens.accessToken);
    const setup = await kit.useCases.BeginTotpSetup.execute({ userId: squatter.user.id, sessionId, client: CLIENT });
    await kit.useCases.EnableTotp.execute({ userId: squatter.user.id, sessionId, code: totp.generate(setup.secret, kit.clock.now()), client: CLIENT });

    const confirmed = await kit.useCases.UpdateUser.execute({ actor, userId: squatter.user.id, emailVerified: true });
    expect([confirmed.emailVerified, confirmed.mfaEnabled]).toEqual([true, false]);
    // The admin's doing, in the event and in the owner's activity (the second review of stop 51).
    const disabled = kit.db.tables.outbox.map((row) => row.event).filter((event) => event.type === 'auth.mfa.disabled');
    expect(disabled.map((event) => event.data['actor_id'])).toEqual([admin.user.id]);
    const audited = kit.db.tables.auditEvents.filter((entry) => entry.type === 'mfa.disabled' && entry.subjectId === squatter.user.id);
    expect(audited.map((entry) => [entry.actorId, entry.reason])).toEqual([[admin.user.id, 'admin_password_unproven']]);
    // The password's removal is in the trail as such, as a role grant's is (a review of stop 60).
    const removed = kit.db.tables.auditEvents.filter((entry) => entry.type === 'credentials.updated' && entry.subjectId === squatter.user.id);
    expect(removed.map((entry) => [entry.actorId, entry.reason])).toEqual([[admin.user.id, 'admin_password_unproven']]);
    await kit.useCases.ConfirmPasswordReset.execute({ token: kit.lastToken('victim@corp.example'), newPassword: 'the owner chose this one', client: CLIENT });
    const login = await kit.useCases.LoginWithPassword.execute({ identifier: 'victim@corp.example', password: 'the owner chose this one', client: CLIENT });
    expect(login.mfaRequired).toBe(false);
  });

  it('a reset of a proven address keeps its second factor and profile (nothing changes there)', async () => {
    const kit = await createKit();
    await kit.registerVerified('alice@example.com', 'alice');
    await kit.useCases.RequestPasswordReset.execute({ email: 'alice@example.com', client: CLIENT });
    await kit.useCases.ConfirmPasswordReset.execute({ token: kit.lastToken('alice@example.com'), newPassword: 'a brand new passphrase', client: CLIENT });
    const user = await kit.repos.users.findByEmail('alice@example.com');
    expect([user?.emailVerified, user?.username]).toEqual([true, 'alice']);
  });

  it('an admin reinstating such an account makes it active again, as it was (not pending_verification)', async () => {
    const kit = await createKit({ requireEmailVerification: false });
    const admin = await kit.useCases.RegisterUser.execute({ email: 'support@example.com', password: PASSWORD, client: CLIENT });
    if (admin.kind !== 'created') throw new Error('expected created');
    await kit.useCases.ResendVerification.execute({ email: 'support@example.com', client: CLIENT });
    await kit.useCases.VerifyEmail.execute({ token: kit.lastToken('support@example.com') });
    await kit.useCases.CreateAdmin.execute({ email: 'support@example.com', password: 'unused' });
    const actor = { id: admin.user.id, sessionId: await sidOf(kit, admin.tokens.accessToken), client: CLIENT };
    const bob = await kit.useCases.RegisterUser.execute({ email: 'bob@example.com', password: PASSWORD, client: CLIENT });
    if (bob.kind !== 'created') throw new Error('expected created');
    await kit.useCases.UpdateUser.execute({ actor, userId: bob.user.id, status: 'suspended' });
    const back = await kit.useCases.UpdateUser.execute({ actor, userId: bob.user.id, status: 'active' });
    expect([back.status, back.emailVerified]).toEqual(['active', false]);
    await expect(kit.useCases.LoginWithPassword.execute({ identifier: 'bob@example.com', password: PASSWORD, client: CLIENT })).resolves.toMatchObject({ mfaRequired: false });
  });
});
