import { inject, injectable } from 'inversify';
import { Email } from '@domain/user/email';
import type { User } from '@domain/user/user';
import type { Clock } from '../ports/clock';
import type { LoginLockout } from '../ports/login-lockout';
import type { UnitOfWork } from '../ports/unit-of-work';
import { Errors } from '../shared/errors';
import { clearLockout } from '../session/login-lockout-keys';
import { MfaLockout } from '../mfa/mfa-lockout';
import { cliAuditEntry } from '../shared/audit-entry';
import { PORTS } from '../ports/tokens';

/**
 * CLI `unlock --email E`: what POST /admin/users/:id/unlock does (the recorded lock and failure count cleared on the
 * account, then the lockout store's entries of each of its identifiers and its second step's), for an operator at
 * the service's database and Redis rather than an admin over HTTP. Until stop 49 an admin locked out by someone
 * guessing at their address, with no other admin to unlock them, could only wait (up to LOCKOUT_MAX_DURATION).
 * Audited `account.unlocked` with no actor, reason `cli`, as create-admin's entries are.
 */
@injectable()
export class UnlockAccountByOperator {
  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.Clock) private readonly clock: Clock,
    @inject(PORTS.LoginLockout) private readonly lockout: LoginLockout,
    @inject(MfaLockout) private readonly mfaLockout: MfaLockout,
  ) {}

  async execute(input: { email: string }): Promise<User> {
    const email = Email.create(input.email);
    const user = await this.uow.run(async (repos) => {
      const seen = await repos.users.findByEmail(email.value);
      const locked = seen ? await repos.users.findByIdForUpdate(seen.id) : null;
      const now = this.clock.now(); // once the account's lock is held
      if (!locked) throw Errors.userNotFound();
      locked.unlock(now);
      await repos.users.save(locked);
      await repos.audit.record(cliAuditEntry('account.unlocked', locked.id, now));
      // Once committed, each on the after-commit list: the second runs even if the first throws.
      repos.afterCommit(() => clearLockout(this.lockout, locked));
      repos.afterCommit(() => this.mfaLockout.clear(locked.id));
      return locked;
    });
    return user;
  }
}
