import { inject, injectable } from 'inversify';
import type { User } from '@domain/user/user';
import { Errors } from '../shared/errors';
import type { Clock } from '../ports/clock';
import type { UnitOfWork } from '../ports/unit-of-work';
import type { AuthSettings } from '../shared/auth-settings';
import type { ClientContext } from '../shared/client-context';
import { securityNoticeEmail } from '../shared/security-notices';
import { MfaLockout } from './mfa-lockout';
import { PORTS } from '../ports/tokens';

/**
 * Support removes a user's second factor (lost phone and backup codes), for the admin API. Audited with the
 * admin as actor; `auth.mfa.disabled` carries `actor_id`; the user is told by email. Removing none is no change
 * (no event, no email) and answers the user as it is.
 */
@injectable()
export class RemoveUserMfa {
  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(MfaLockout) private readonly lockout: MfaLockout,
    @inject(PORTS.Clock) private readonly clock: Clock,
    @inject(PORTS.AuthSettings) private readonly settings: AuthSettings,
  ) {}

  async execute(input: { userId: string; actorId: string; client: ClientContext }): Promise<User> {
    const now = this.clock.now();
    const user = await this.uow.run(async (repos) => {
      const user = await repos.users.findByIdForUpdate(input.userId);
      if (!user) throw Errors.userNotFound();
      const hadPendingSetup = user.credentials.has('totp');
      if (!user.disableMfa(now, input.actorId)) {
        // A pending set-up only (never enabled): dropped quietly.
        if (hadPendingSetup) await repos.users.save(user);
        return user;
      }
      await repos.users.save(user);
      await repos.audit.record({
        type: 'mfa.disabled',
        outcome: 'success',
        actorId: input.actorId,
        subjectId: user.id,
        reason: 'removed_by_admin',
        ip: input.client.ip,
        userAgent: input.client.userAgent,
        requestId: input.client.requestId ?? null,
        occurredAt: now,
      });
      await repos.emails.enqueue(securityNoticeEmail(user.email, { kind: 'mfa_disabled', occurredAt: now, bySupport: true }, this.settings.publicUrl));
      return user;
    });
    await this.lockout.clear(user.id);
    return user;
  }
}
