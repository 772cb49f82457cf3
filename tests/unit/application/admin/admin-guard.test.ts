import { assertMayRemoveAdmin, lockAdmins } from '@application/admin/admin-guard';
import { DomainError } from '@domain/shared/domain-error';
import { Role } from '@domain/user/role';
import { aVerifiedUser } from '../../../support/mothers';
import { CLIENT, createKit } from '../support/test-kit';

const admin = () => {
  const user = aVerifiedUser();
  user.changeRoles(Role.list(['user', 'admin']), new Date(), user.id);
  return user;
};

describe('admin guard rails', () => {
  it('refuses the actor acting on themself, and removing the last active admin (409 CONFLICT, distinct details)', () => {
    const a = admin();
    const b = admin();
    const selfError = (() => {
      try {
        assertMayRemoveAdmin(new Set([a.id, b.id]), a.id, a);
      } catch (error) {
        return error;
      }
    })();
    expect(selfError).toBeInstanceOf(DomainError);
    expect(selfError).toMatchObject({ code: 'CONFLICT', details: { user_id: ['self'] } });
    expect(() => assertMayRemoveAdmin(new Set([b.id]), a.id, b)).toThrow(expect.objectContaining({ code: 'CONFLICT', details: { user_id: ['last_active_admin'] } }));
    expect(() => assertMayRemoveAdmin(new Set([a.id, b.id]), a.id, b)).not.toThrow();
  });

  it('refuses an actor who is no longer an active admin when the change starts (FORBIDDEN)', async () => {
    const kit = await createKit();
    const user = await kit.registerVerified('not-admin@example.com');
    await expect(kit.uow.run((repos) => lockAdmins(repos, user.id))).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await kit.useCases.CreateAdmin.execute({ email: 'not-admin@example.com', password: 'unused' });
    await expect(kit.uow.run((repos) => lockAdmins(repos, user.id))).resolves.toEqual(new Set([user.id]));
    const other = await kit.registerVerified('someone@example.com');
    const updated = await kit.useCases.UpdateUser.execute({ actor: { id: user.id, client: CLIENT }, userId: other.id, roles: ['user', 'admin'] });
    expect(updated.isActiveAdmin).toBe(true);
    await kit.useCases.UpdateUser.execute({ actor: { id: other.id, client: CLIENT }, userId: user.id, status: 'suspended' });
    await expect(kit.useCases.UpdateUser.execute({ actor: { id: user.id, client: CLIENT }, userId: other.id, roles: ['user'] })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(kit.eventTypes()).toEqual(expect.arrayContaining(['auth.user.roles_changed', 'auth.user.status_changed']));
  });
});
