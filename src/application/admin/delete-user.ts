import { inject, injectable } from 'inversify';
import { accountDeletedEmail } from '../shared/email-templates';
import type { Clock } from '../ports/clock';
import type { UnitOfWork } from '../ports/unit-of-work';
import { revokeSessions } from '../session/revoke-sessions';
import { adminAuditEntry, assertMayRemoveAdmin, lockForAdminChange, type AdminActor } from './admin-guard';
import { PORTS } from '../ports/tokens';

/**
 * DELETE /admin/users/:id: as DELETE /users/me without the password, by an admin: sessions revoked (events),
 * the account removed, auth.user.deleted, a goodbye email saying an administrator deleted it (not to an account its
 * owner never took up: see below), the audit entry naming the actor. Not the actor's own account, not the last active admin.
 */
@injectable()
export class DeleteUser {
  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.Clock) private readonly clock: Clock,
  ) {}

  async execute(input: { actor: AdminActor; userId: string }): Promise<void> {
    await this.uow.run(async (repos) => {
      const { admins, user, now } = await lockForAdminChange(repos, input.actor, input.userId, this.clock);
      if (user.isActiveAdmin || user.id === input.actor.id) assertMayRemoveAdmin(admins, input.actor.id, user);
      await revokeSessions(repos, user.id, now, 'account_deleted');
      user.markDeleted(now);
      await repos.users.delete(user);
      // No goodbye to an account its owner never took up: no password and an address never proven (an unredeemed
      // invitation, or a sign-up whose unproven password a contested registration discarded). "Your account was
      // deleted" would be news of an account the address never accepted, between two invitations (outside review,
      // 2026-12-06). The event and the audit entry still record it.
      const takenUp = user.emailVerified || user.credentials.passwordHash !== null;
      if (takenUp) await repos.emails.enqueue(accountDeletedEmail(user.email, 'admin'));
      await repos.audit.record(adminAuditEntry('account.deleted', input.actor, user.id, now, 'admin'));
    });
  }
}
