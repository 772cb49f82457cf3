import { CLIENT, createKit } from '../support/test-kit';

type Kit = Awaited<ReturnType<typeof createKit>>;

/** The events recorded about one account, in order: type and payload. */
const eventsOf = (kit: Kit, subject: string) => kit.db.tables.outbox.filter((row) => row.event.subject === subject).map((row) => ({ type: row.event.type, data: row.event.data }));
/** The audit rows about one account, in order. */
const auditOf = (kit: Kit, subject: string) =>
  kit.db.tables.auditEvents.filter((entry) => entry.subjectId === subject).map((entry) => ({ type: entry.type, actorId: entry.actorId, reason: entry.reason }));

/**
 * A role granted when an account is created leaves the same trace as one granted later (review, stop 48):
 * auth.user.registered carries no roles, so subscribers learn them from auth.user.roles_changed, and the audit trail
 * holds a user.roles_changed row, as for the admin PATCH route's change.
 */
describe('roles granted at creation are evented and audited', () => {
  it('an invitation with roles beyond ["user"]: auth.user.roles_changed with the inviting admin as actor, and user.roles_changed audited', async () => {
    const kit = await createKit();
    const actor = await kit.anAdmin('inviter@example.com');
    const invited = await kit.useCases.InviteUser.execute({ actor, email: 'x@example.com', roles: ['user', 'admin'] });
    expect(invited.roles).toEqual(['user', 'admin']);
    expect(eventsOf(kit, invited.id)).toEqual([
      { type: 'auth.user.registered', data: { user_id: invited.id, email: 'x@example.com', username: null, email_verified: false } },
      { type: 'auth.user.roles_changed', data: { user_id: invited.id, roles: ['user', 'admin'], previous_roles: ['user'], actor_id: actor.id } },
    ]);
    expect(auditOf(kit, invited.id)).toEqual([
      { type: 'user.invited', actorId: actor.id, reason: null },
      { type: 'user.roles_changed', actorId: actor.id, reason: 'user admin' },
    ]);
    const audited = kit.db.tables.auditEvents.find((entry) => entry.subjectId === invited.id && entry.type === 'user.roles_changed');
    expect(audited).toMatchObject({ outcome: 'success', ip: CLIENT.ip, userAgent: CLIENT.userAgent });
    // Stored with those roles.
    expect((await kit.repos.users.findById(invited.id))?.roles).toEqual(['user', 'admin']);
  });

  it('roles without "user" are a change too; the default and ["user"] (in any repetition) are not', async () => {
    const kit = await createKit();
    const actor = await kit.anAdmin('inviter@example.com');
    const support = await kit.useCases.InviteUser.execute({ actor, email: 'support-only@example.com', roles: ['support'] });
    expect(eventsOf(kit, support.id).map((e) => e.type)).toEqual(['auth.user.registered', 'auth.user.roles_changed']);
    expect(eventsOf(kit, support.id)[1]!.data).toEqual({ user_id: support.id, roles: ['support'], previous_roles: ['user'], actor_id: actor.id });
    expect(auditOf(kit, support.id)).toEqual([
      { type: 'user.invited', actorId: actor.id, reason: null },
      { type: 'user.roles_changed', actorId: actor.id, reason: 'support' },
    ]);
    for (const [email, roles] of [['plain@example.com', undefined], ['user@example.com', ['user']], ['twice@example.com', ['user', 'user']]] as const) {
      const invited = await kit.useCases.InviteUser.execute({ actor, email, roles });
      expect({ email, roles: invited.roles, events: eventsOf(kit, invited.id).map((e) => e.type), audit: auditOf(kit, invited.id).map((a) => a.type) }).toEqual({
        email,
        roles: ['user'],
        events: ['auth.user.registered'],
        audit: ['user.invited'],
      });
    }
  });

  it('CLI create-admin for a new address audits user.roles_changed (reason cli) as well as user.registered, as its promotion does', async () => {
    const kit = await createKit();
    const created = await kit.useCases.CreateAdmin.execute({ email: 'fresh-admin@example.com', password: 'a long enough admin passphrase' });
    expect(created.created).toBe(true);
    const id = created.user.id;
    expect(eventsOf(kit, id).map((e) => e.type)).toEqual(['auth.user.registered', 'auth.user.roles_changed']);
    expect(auditOf(kit, id)).toEqual([
      { type: 'user.registered', actorId: null, reason: 'cli' },
      { type: 'user.roles_changed', actorId: null, reason: 'cli' },
    ]);
    // The promotion of an existing account, for comparison: the same user.roles_changed row.
    await kit.registerVerified('promoted@example.com');
    const promoted = await kit.useCases.CreateAdmin.execute({ email: 'promoted@example.com', password: 'unused' });
    expect(auditOf(kit, promoted.user.id).filter((a) => a.type === 'user.roles_changed')).toEqual([{ type: 'user.roles_changed', actorId: null, reason: 'cli' }]);
  });
});
