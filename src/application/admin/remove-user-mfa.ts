import { inject, injectable } from 'inversify';
import type { User } from '@domain/user/user';
import { Errors } from '../shared/errors';
import type { Clock } from '../ports/clock';
import type { UnitOfWork } from '../ports/unit-of-work';
import type { AuthSettings } from '../shared/auth-settings';
import { securityNoticeEmail } from '../shared/security-notices';
import { adminAuditEntry, lockForAdminChange, type AdminActor } from './admin-guard';
import { MfaLockout } from '../mfa/mfa-lockout';
import { PORTS } from '../ports/tokens';

/**
 * Support removes a user's second factor (lost phone and backup codes), for the admin API. Audited with the
 * admin as actor; `auth.mfa.disabled` carries `actor_id`; the user is told by email. Removing none is no change
 * (no event, no email) and answers the user as it is.
 * As every admin change: the actor is re-checked as an active admin under the admins' lock (a demotion or suspension
 * committed meanwhile bites), and never on their own account: their own second factor goes through
 * /auth/mfa/totp/disable, which asks for the password and a code (an admin token alone must not strip it).
 */
@injectable()
export class RemoveUserMfa {
  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(MfaLockout) private readonly lockout: MfaLockout,
    @inject(PORTS.Clock) private readonly clock: Clock,
    @inject(PORTS.AuthSettings) private readonly settings: AuthSettings,
  ) {}

  async execute(input: { actor: AdminActor; userId: string }): Promise<User> {
    const user = await this.uow.run(async (repos) => {
      const { user, now } = await lockForAdminChange(repos, input.actor, input.userId, this.clock);
      // The id as stored, not as typed: a path may spell a UUID in capitals (PostgreSQL matches it either way).
      if (user.id === input.actor.id) throw Errors.adminSelfAction();
      const hadPendingSetup = user.credentials.has('totp');
      if (!user.disableMfa(now, input.actor.id)) {
        // A pending set-up only (never enabled): dropped, and audited as every admin change is (it was not until an
        // outside review, 2026-12-02); no event or notice, since no factor the user had went away.
        if (hadPendingSetup) {
          await repos.users.save(user);
          await repos.audit.record(adminAuditEntry('mfa.disabled', input.actor, user.id, now, 'pending_setup_removed_by_admin'));
        }
        return user;
      }
      await repos.users.save(user);
      // As at /auth/mfa/totp/disable: pending second steps die with the factor.
      await repos.oneTimeTokens.consumeAllFor(user.id, 'mfa_pending', now);
      await repos.audit.record(adminAuditEntry('mfa.disabled', input.actor, user.id, now, 'removed_by_admin'));
      await repos.emails.enqueue(securityNoticeEmail(user.email, { kind: 'mfa_disabled', occurredAt: now, bySupport: true }, this.settings.publicUrl));
      return user;
    });
    await this.lockout.clear(user.id);
    return user;
  }
}
