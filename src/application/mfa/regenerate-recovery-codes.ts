import { inject, injectable } from 'inversify';
import { recoveryCodesReplaced } from '@domain/user/mfa';
import type { UserRepository } from '@domain/user/user.repository';
import { Errors } from '../shared/errors';
import type { Clock } from '../ports/clock';
import type { PasswordHasher } from '../ports/password-hasher';
import type { UnitOfWork } from '../ports/unit-of-work';
import { assertCurrentPassword, CurrentPasswordGuard, found, wrongPassword } from '../password/current-password';
import { selfAuditEntry } from '../shared/audit-entry';
import { lockAskingAccount } from '../shared/asking-session';
import type { AuthSettings } from '../shared/auth-settings';
import type { ClientContext } from '../shared/client-context';
import { RECOVERY_CODE_COUNT } from '../shared/mfa-settings';
import { securityNoticeEmail } from '../shared/security-notices';
import { SecondFactor } from './second-factor';
import { PORTS } from '../ports/tokens';

/**
 * A new set of backup codes (current password required); every code of the old set stops working. Of regenerations
 * racing one another, one succeeds and the others answer CONFLICT (see execute).
 */
@injectable()
export class RegenerateRecoveryCodes {
  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.UserRepository) private readonly users: UserRepository,
    @inject(PORTS.PasswordHasher) private readonly hasher: PasswordHasher,
    @inject(CurrentPasswordGuard) private readonly guard: CurrentPasswordGuard,
    @inject(SecondFactor) private readonly factor: SecondFactor,
    @inject(PORTS.Clock) private readonly clock: Clock,
    @inject(PORTS.AuthSettings) private readonly settings: AuthSettings,
  ) {}

  async execute(input: { userId: string; sessionId: string; password: string; client: ClientContext }): Promise<{ backupCodes: string[] }> {
    const user = found(await this.users.findById(input.userId));
    if (!user.mfaEnabled) throw Errors.mfaNotEnabled();
    const failure = selfAuditEntry('mfa.recovery_codes_regenerated', input.client, user.id, this.clock.now(), 'wrong_password');
    await assertCurrentPassword(this.hasher, this.uow, user, input.password, failure, { guard: this.guard, sessionId: input.sessionId, signal: input.client.signal });
    const { codes, hashes } = this.factor.newRecoveryCodes(RECOVERY_CODE_COUNT);
    const now = this.clock.now();
    await this.uow.run(async (repos) => {
      const fresh = await lockAskingAccount(repos, { userId: user.id, sessionId: input.sessionId }, now, this.settings.requireEmailVerification);
      if (fresh.credentials.passwordHash !== user.credentials.passwordHash) throw wrongPassword();
      // Regenerations sent at once each read the old set: the first to commit wins, the others change nothing, so
      // that no caller is handed a set that a later commit has already voided (a code spent meanwhile is no conflict).
      // (MFA turned off meanwhile: replaceRecoveryCodes says so.)
      if (fresh.mfaEnabled && recoveryCodesReplaced(user.credentials, fresh.credentials)) throw Errors.recoveryCodesReplacedMeanwhile();
      fresh.replaceRecoveryCodes(hashes, now);
      await repos.users.save(fresh);
      await repos.audit.record(selfAuditEntry('mfa.recovery_codes_regenerated', input.client, fresh.id, now));
      await repos.emails.enqueue(securityNoticeEmail(fresh.email, { kind: 'recovery_codes_regenerated', occurredAt: now }, this.settings.publicUrl));
    });
    return { backupCodes: codes };
  }
}
