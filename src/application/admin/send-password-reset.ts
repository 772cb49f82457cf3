import { inject, injectable } from 'inversify';
import type { AuthSettings } from '../shared/auth-settings';
import { passwordResetEmail } from '../shared/email-templates';
import { issueOneTimeToken } from '../shared/one-time-token-issuer';
import { Errors } from '../shared/errors';
import type { Clock } from '../ports/clock';
import type { IdGenerator } from '../ports/id-generator';
import type { OpaqueTokens } from '../ports/opaque-tokens';
import type { UnitOfWork } from '../ports/unit-of-work';
import { RESET_TOKEN_TTL_SECONDS } from '../password/request-password-reset';
import { adminAuditEntry, lockForAdminChange, type AdminActor } from './admin-guard';
import { PORTS } from '../ports/tokens';

/**
 * POST /admin/users/:id/password-reset: the user gets the ordinary reset email (1 h link, older links void).
 * Admins never see or set a password. A suspended account could not redeem the link: 409.
 */
@injectable()
export class SendPasswordReset {
  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.OpaqueTokens) private readonly opaque: OpaqueTokens,
    @inject(PORTS.IdGenerator) private readonly ids: IdGenerator,
    @inject(PORTS.Clock) private readonly clock: Clock,
    @inject(PORTS.AuthSettings) private readonly settings: AuthSettings,
  ) {}

  async execute(input: { actor: AdminActor; userId: string }): Promise<void> {
    await this.uow.run(async (repos) => {
      const { user, now } = await lockForAdminChange(repos, input.actor, input.userId, this.clock);
      if (user.status === 'suspended') throw Errors.userSuspended();
      const ttlSeconds = RESET_TOKEN_TTL_SECONDS;
      const token = await issueOneTimeToken(repos, this.opaque, this.ids, { userId: user.id, purpose: 'password_reset', ttlSeconds, now });
      user.requestPasswordReset(now);
      await repos.users.save(user);
      await repos.emails.enqueue(passwordResetEmail(user.email, this.settings.publicUrl, token, ttlSeconds));
      await repos.audit.record(adminAuditEntry('password.reset_requested', input.actor, user.id, now, 'admin'));
    });
  }
}
