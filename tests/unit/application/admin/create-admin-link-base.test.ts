import { CLIENT, PASSWORD, createKit } from '../support/test-kit';

/**
 * CLI create-admin promoting a never-verified account mails a link to choose a password. Run against the service's
 * database without its APP_PUBLIC_URL, that link used to point at the command's default, localhost: the use case
 * now refuses that one case, changing nothing, and the other cases go on as before.
 */
describe('CreateAdmin without a known link base', () => {
  it('refuses to promote a never-verified account (the link would point at localhost) and leaves it untouched', async () => {
    const kit = await createKit();
    await kit.useCases.RegisterUser.execute({ email: 'pending@example.com', password: PASSWORD, client: CLIENT });
    const mailsBefore = kit.mailer.inbox('pending@example.com').length;
    await expect(kit.useCases.CreateAdmin.execute({ email: 'pending@example.com', password: 'unused', linkBaseKnown: false })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('APP_PUBLIC_URL'),
    });
    const user = await kit.repos.users.findByEmail('pending@example.com');
    expect(user?.roles).toEqual(['user']);
    expect(user?.credentials.passwordHash).not.toBeNull();
    expect(kit.mailer.inbox('pending@example.com')).toHaveLength(mailsBefore);
    // The sign-up's own link still verifies the address, with the password it was registered with.
    await kit.useCases.VerifyEmail.execute({ token: kit.lastToken('pending@example.com') });
    // With the service's APP_PUBLIC_URL, the same command promotes it (verified now: no link, no discard).
    const promoted = await kit.useCases.CreateAdmin.execute({ email: 'pending@example.com', password: 'unused', linkBaseKnown: false });
    expect([promoted.created, promoted.passwordDiscarded, promoted.user.roles]).toEqual([false, false, ['user', 'admin']]);
  });

  it('creates a new admin and promotes a verified account, as before, since neither mails a link', async () => {
    const kit = await createKit();
    const created = await kit.useCases.CreateAdmin.execute({ email: 'new-admin@example.com', password: 'a long enough admin passphrase', linkBaseKnown: false });
    expect([created.created, created.user.roles]).toEqual([true, ['user', 'admin']]);
    await kit.registerVerified('verified@example.com');
    const promoted = await kit.useCases.CreateAdmin.execute({ email: 'verified@example.com', password: 'unused', linkBaseKnown: false });
    expect([promoted.created, promoted.user.roles]).toEqual([false, ['user', 'admin']]);
  });

  it('with the link base known, discards the unproven password and mails the link (unchanged)', async () => {
    const kit = await createKit();
    await kit.useCases.RegisterUser.execute({ email: 'pending@example.com', password: PASSWORD, client: CLIENT });
    const promoted = await kit.useCases.CreateAdmin.execute({ email: 'pending@example.com', password: 'unused' });
    expect([promoted.passwordDiscarded, promoted.user.roles]).toEqual([true, ['user', 'admin']]);
    expect(kit.mailer.inbox('pending@example.com').at(-1)?.text).toMatch(/reset-password\?token=/);
  });
});
