import { inject, injectable } from 'inversify';
import type { Session } from '@domain/session/session';
import { recoveryCodesReplaced } from '@domain/user/mfa';
import type { User } from '@domain/user/user';
import type { UserRepository } from '@domain/user/user.repository';
import type { SessionRepository } from '@domain/session/session.repository';
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
import { stillHoldsPassword } from '../shared/password-match';

/**
 * How recent the asking session's proof of the second factor must be for a regeneration: 15 minutes. The proof is
 * the sign-in with a code (`amr` has `otp`: the session's start), or, for the session that turned MFA on (it signed
 * in with the password alone and confirmed a code), the moment it did.
 */
export const MFA_STEP_UP_SECONDS = 15 * 60;

/** Whether `session` proved the account's second factor within MFA_STEP_UP_SECONDS of `now`. */
function secondFactorRecent(session: Session, user: User, now: Date): boolean {
  const since = (at: Date | null | undefined) => at != null && now.getTime() - at.getTime() <= MFA_STEP_UP_SECONDS * 1000;
  if (session.amr.includes('otp') && since(session.createdAt)) return true;
  // Turning MFA on ends every other session: one that signed in before that moment is the enabling one.
  const enabledAt = user.credentials.get('totp')?.confirmedAt;
  return since(enabledAt) && enabledAt !== null && enabledAt !== undefined && session.createdAt <= enabledAt;
}

/**
 * A new set of backup codes: the current password, and a session that proved the second factor in the last 15
 * minutes (MFA_STEP_UP_SECONDS), are required; every code of the old set stops working. Of regenerations racing one
 * another, one succeeds and the others answer CONFLICT (see execute).
 *
 * Why the recent second factor: a backup code turns MFA off (DisableTotp) and signs in. With the password alone, a
 * stolen access token (any age) minted ten codes, then disabled MFA with one, and the password alone signed in from
 * then on; or kept the codes to sign in after the owner revoked the session (an outside review, 2026-12-05). Now
 * the thief needs a session that signed in with a code minutes ago, and the owner's new sign-in is what it takes.
 */
@injectable()
export class RegenerateRecoveryCodes {
  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.UserRepository) private readonly users: UserRepository,
    @inject(PORTS.SessionRepository) private readonly sessions: SessionRepository,
    @inject(PORTS.PasswordHasher) private readonly hasher: PasswordHasher,
    @inject(CurrentPasswordGuard) private readonly guard: CurrentPasswordGuard,
    @inject(SecondFactor) private readonly factor: SecondFactor,
    @inject(PORTS.Clock) private readonly clock: Clock,
    @inject(PORTS.AuthSettings) private readonly settings: AuthSettings,
  ) {}

  async execute(input: { userId: string; sessionId: string; password: string; client: ClientContext }): Promise<{ backupCodes: string[] }> {
    const user = found(await this.users.findById(input.userId));
    if (!user.mfaEnabled) throw Errors.mfaNotEnabled();
    // Before the password is checked (no hash spent, no attempt counted for a session that may not ask at all).
    const asking = await this.sessions.findById(input.sessionId);
    if (asking && !secondFactorRecent(asking, user, this.clock.now())) throw Errors.secondFactorNotRecent();
    const failure = selfAuditEntry('mfa.recovery_codes_regenerated', input.client, user.id, this.clock.now(), 'wrong_password');
    await assertCurrentPassword(this.hasher, this.uow, user, input.password, failure, { guard: this.guard, sessionId: input.sessionId, signal: input.client.signal });
    const { codes, hashes } = this.factor.newRecoveryCodes(RECOVERY_CODE_COUNT);
    await this.uow.run(async (repos) => {
      const { user: fresh, now } = await lockAskingAccount(repos, { userId: user.id, sessionId: input.sessionId }, this.clock, this.settings.requireEmailVerification);
      if (!(await stillHoldsPassword(this.hasher, fresh.credentials, user.credentials, input.password, input.client.signal))) throw wrongPassword();
      // Again under the locks, at the commit's `now` (the password check may have waited for a hash slot).
      const session = await repos.sessions.findById(input.sessionId);
      if (!session || !fresh.mfaEnabled || !secondFactorRecent(session, fresh, now)) {
        if (!fresh.mfaEnabled) throw Errors.mfaNotEnabled();
        throw Errors.secondFactorNotRecent();
      }
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
