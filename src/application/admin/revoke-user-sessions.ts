import { inject, injectable } from 'inversify';
import type { Clock } from '../ports/clock';
import type { UnitOfWork } from '../ports/unit-of-work';
import { cutOffEarlierAccess } from '../session/revoke-sessions';
import { adminAuditEntry, lockForAdminChange, type AdminActor } from './admin-guard';
import { PORTS } from '../ports/tokens';

/**
 * POST /admin/users/:id/sessions/revoke: support ending an intruder's access, as completely as the user's own global
 * logout: every live session ends at once, and nothing handed out before can still act on the account: pending MFA
 * logins (mfa_token), email-change, verification and reset links are void and a pending email change is dropped
 * (cutOffEarlierAccess). Returns how many sessions ended.
 */
@injectable()
export class RevokeUserSessions {
  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.Clock) private readonly clock: Clock,
  ) {}

  async execute(input: { actor: AdminActor; userId: string }): Promise<number> {
    return this.uow.run(async (repos) => {
      const { user, now } = await lockForAdminChange(repos, input.actor, input.userId, this.clock);
      const revoked = await cutOffEarlierAccess(repos, user, now, 'admin');
      await repos.users.save(user);
      await repos.audit.record(adminAuditEntry('session.revoked', input.actor, user.id, now, `admin:${revoked}`));
      return revoked;
    });
  }
}
