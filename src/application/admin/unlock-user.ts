import { inject, injectable } from 'inversify';
import type { User } from '@domain/user/user';
import type { Clock } from '../ports/clock';
import type { LoginLockout } from '../ports/login-lockout';
import type { UnitOfWork } from '../ports/unit-of-work';
import { clearLockout } from '../session/login-lockout-keys';
import { MfaLockout } from '../mfa/mfa-lockout';
import { adminAuditEntry, lockForAdminChange, type AdminActor } from './admin-guard';
import { PORTS } from '../ports/tokens';

/**
 * POST /admin/users/:id/unlock: failed-login count and recorded lock cleared on the account, then the lockout
 * store's entries of every identifier of the account (as a successful password reset does), and the second
 * step's lockout (wrong codes): an unlocked account can sign in again with either factor.
 */
@injectable()
export class UnlockUser {
  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.Clock) private readonly clock: Clock,
    @inject(PORTS.LoginLockout) private readonly lockout: LoginLockout,
    @inject(MfaLockout) private readonly mfaLockout: MfaLockout,
  ) {}

  async execute(input: { actor: AdminActor; userId: string }): Promise<User> {
    const user = await this.uow.run(async (repos) => {
      const { user: locked, now } = await lockForAdminChange(repos, input.actor, input.userId, this.clock);
      locked.unlock(now);
      await repos.users.save(locked);
      await repos.audit.record(adminAuditEntry('account.unlocked', input.actor, locked.id, now));
      // Once committed, each on the after-commit list: the second runs even if the first throws.
      repos.afterCommit(() => clearLockout(this.lockout, locked));
      repos.afterCommit(() => this.mfaLockout.clear(locked.id));
      return locked;
    });
    return user;
  }
}
