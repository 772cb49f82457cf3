import { inject, injectable } from 'inversify';
import type { Clock } from '../ports/clock';
import type { UnitOfWork } from '../ports/unit-of-work';
import { revokeSessions } from '../session/revoke-sessions';
import { adminAuditEntry, lockAdmins, lockedUser, type AdminActor } from './admin-guard';
import { PORTS } from '../ports/tokens';

/** POST /admin/users/:id/sessions/revoke: every live session of the user ends at once; returns how many. */
@injectable()
export class RevokeUserSessions {
  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.Clock) private readonly clock: Clock,
  ) {}

  async execute(input: { actor: AdminActor; userId: string }): Promise<number> {
    const now = this.clock.now();
    return this.uow.run(async (repos) => {
      await lockAdmins(repos, input.actor, now);
      const user = await lockedUser(repos, input.userId);
      const revoked = await revokeSessions(repos, user.id, now, 'admin');
      await repos.audit.record(adminAuditEntry('session.revoked', input.actor, user.id, now, `admin:${revoked}`));
      return revoked;
    });
  }
}
