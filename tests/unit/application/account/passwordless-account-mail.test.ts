import { CLIENT, PASSWORD, createKit } from '../support/test-kit';

type Kit = Awaited<ReturnType<typeof createKit>>;

const subjects = (kit: Kit, to: string) => kit.mailer.inbox(to).map((m) => m.subject);

/**
 * An account without a password whose address was never proven (an unredeemed invitation, or a sign-up whose
 * unproven password a contested registration discarded) is not yet its owner's (outside review, 2026-12-06):
 * anyone's verification resend must not mail a link that activates it with no password, and an admin deleting it
 * must not mail "Your account was deleted" about an account the address never accepted.
 */
describe('accounts without a password: no verification resend, no goodbye on deletion', () => {
  it('a resend for an unredeemed invitation sends nothing; the invitation link still sets the password', async () => {
    const kit = await createKit();
    const actor = await kit.anAdmin('inviter@example.com');
    const invited = await kit.useCases.InviteUser.execute({ actor, email: 'x@example.com', roles: ['user', 'admin'] });
    const invitation = kit.lastToken('x@example.com');
    await kit.useCases.ResendVerification.execute({ email: 'x@example.com', client: CLIENT });
    expect(subjects(kit, 'x@example.com')).toEqual(['You have been invited']);
    const stored = await kit.repos.users.findById(invited.id);
    expect([stored?.status, stored?.emailVerified, stored?.credentials.passwordHash]).toEqual(['pending_verification', false, null]);
    // The request was handled (not left pending) and the invitee's own link works.
    expect([...kit.db.tables.accountRequests.values()].every((r) => r.processedAt !== null)).toBe(true);
    await kit.useCases.ConfirmPasswordReset.execute({ token: invitation, newPassword: 'a fresh passphrase 42', client: CLIENT });
    const redeemed = await kit.repos.users.findById(invited.id);
    expect([redeemed?.status, redeemed?.emailVerified]).toEqual(['active', true]);
  });

  it('a resend after a contested registration sends nothing; an unverified account with a password still gets its link', async () => {
    const kit = await createKit();
    await kit.useCases.RegisterUser.execute({ email: 'c@example.com', password: PASSWORD, client: CLIENT });
    await kit.useCases.RegisterUser.execute({ email: 'c@example.com', password: PASSWORD, client: CLIENT });
    expect(subjects(kit, 'c@example.com')).toEqual(['Verify your email address', 'Choose a password to finish creating your account']);
    await kit.useCases.ResendVerification.execute({ email: 'c@example.com', client: CLIENT });
    expect(subjects(kit, 'c@example.com')).toHaveLength(2);

    await kit.useCases.RegisterUser.execute({ email: 'p@example.com', password: PASSWORD, client: CLIENT });
    await kit.useCases.ResendVerification.execute({ email: 'p@example.com', client: CLIENT });
    expect(subjects(kit, 'p@example.com')).toEqual(['Verify your email address', 'Verify your email address']);
  });

  it('deleting an unredeemed invitation or a contested sign-up mails nothing; a proven account still hears of it', async () => {
    const kit = await createKit();
    const actor = await kit.anAdmin('inviter@example.com');
    const invited = await kit.useCases.InviteUser.execute({ actor, email: 'x@example.com' });
    await kit.useCases.DeleteUser.execute({ actor, userId: invited.id });
    expect(subjects(kit, 'x@example.com')).toEqual(['You have been invited']);
    // Still recorded: the event and the audit entry.
    expect(kit.db.tables.outbox.some((row) => row.event.type === 'auth.user.deleted' && row.event.subject === invited.id)).toBe(true);
    expect(kit.db.tables.auditEvents.some((e) => e.type === 'account.deleted' && e.subjectId === invited.id)).toBe(true);

    await kit.useCases.RegisterUser.execute({ email: 'c@example.com', password: PASSWORD, client: CLIENT });
    await kit.useCases.RegisterUser.execute({ email: 'c@example.com', password: PASSWORD, client: CLIENT });
    const contested = await kit.repos.users.findByEmail('c@example.com');
    await kit.useCases.DeleteUser.execute({ actor, userId: contested!.id });
    expect(subjects(kit, 'c@example.com')).toEqual(['Verify your email address', 'Choose a password to finish creating your account']);

    const proven = await kit.registerVerified('v@example.com');
    await kit.useCases.DeleteUser.execute({ actor, userId: proven.id });
    expect(subjects(kit, 'v@example.com').at(-1)).toBe('Your account was deleted');
  });
});

/** An outside review (2026-12-08): a first password set by a link was announced as "Your password was changed". */
describe('the notice after a link sets a password', () => {
  it('says the account now has one when it had none (an invitation, a contested sign-up), changed when it had one', async () => {
    const kit = await createKit();
    const actor = await kit.anAdmin('inviter@example.com');
    await kit.useCases.InviteUser.execute({ actor, email: 'x@example.com' });
    await kit.useCases.ConfirmPasswordReset.execute({ token: kit.lastToken('x@example.com'), newPassword: 'a fresh passphrase 42', client: CLIENT });
    expect(subjects(kit, 'x@example.com')).toEqual(['You have been invited', 'Your account now has a password']);

    await kit.useCases.RegisterUser.execute({ email: 'c@example.com', password: PASSWORD, client: CLIENT });
    await kit.useCases.RegisterUser.execute({ email: 'c@example.com', password: PASSWORD, client: CLIENT });
    await kit.useCases.ConfirmPasswordReset.execute({ token: kit.lastToken('c@example.com'), newPassword: 'a fresh passphrase 42', client: CLIENT });
    expect(subjects(kit, 'c@example.com').at(-1)).toBe('Your account now has a password');

    await kit.registerVerified('v@example.com');
    await kit.useCases.RequestPasswordReset.execute({ email: 'v@example.com', client: CLIENT });
    await kit.useCases.ConfirmPasswordReset.execute({ token: kit.lastToken('v@example.com'), newPassword: 'a fresh passphrase 42', client: CLIENT });
    expect(subjects(kit, 'v@example.com').at(-1)).toBe('Your password was changed');
  });
});
