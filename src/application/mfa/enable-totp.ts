import { inject, injectable } from 'inversify';
import type { UserRepository } from '@domain/user/user.repository';
import type { SessionRepository } from '@domain/session/session.repository';
import { Errors } from '../shared/errors';
import type { Clock } from '../ports/clock';
import type { UnitOfWork } from '../ports/unit-of-work';
import { found } from '../password/current-password';
import { selfAuditEntry } from '../shared/audit-entry';
import { lockAskingAccount } from '../shared/asking-session';
import type { AuthSettings } from '../shared/auth-settings';
import type { ClientContext } from '../shared/client-context';
import { RECOVERY_CODE_COUNT } from '../shared/mfa-settings';
import { securityNoticeEmail } from '../shared/security-notices';
import { endOtherAccess } from '../session/revoke-sessions';
import { SecondFactor } from './second-factor';
import { PORTS } from '../ports/tokens';
import { assertRecentSignIn, signedInRecently } from './sign-in-recency';

/**
 * Turns the pending TOTP secret into the account's second factor once a code from it is proved (and spent:
 * that code cannot also sign in). Returns the first backup codes, shown this once. Audited, `auth.mfa.enabled`,
 * and a notice to the account's address.
 * Every other session of the account ends (reason `mfa_enabled`): they were signed in with the password alone, and
 * one of them may be the reason the second factor is being turned on. Kept, they could be refreshed for as long as
 * their lifetime allows and regenerate the backup codes with the password alone. The caller's own session stays.
 * Because it ends the others, and a password reset leaves MFA on, the caller's session must have signed in within the
 * last 15 minutes (sign-in-recency.ts): a stolen session of any age used to lock the owner out.
 */
@injectable()
export class EnableTotp {
  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.UserRepository) private readonly users: UserRepository,
    @inject(PORTS.SessionRepository) private readonly sessions: SessionRepository,
    @inject(SecondFactor) private readonly factor: SecondFactor,
    @inject(PORTS.Clock) private readonly clock: Clock,
    @inject(PORTS.AuthSettings) private readonly settings: AuthSettings,
  ) {}

  /** `sessionId`: the session making the change (the access token's `sid`), the one session that stays. */
  async execute(input: { userId: string; sessionId: string; code: string; client: ClientContext }): Promise<{ backupCodes: string[] }> {
    const user = found(await this.users.findById(input.userId));
    if (user.mfaEnabled) throw Errors.mfaAlreadyEnabled();
    if (user.credentials.get('totp') === null) throw Errors.noPendingTotpSetup();
    const now = this.clock.now();
    // Before the code is checked (no step spent, no attempt counted for a session that may not ask at all).
    const asking = await this.sessions.findById(input.sessionId);
    if (asking && !signedInRecently(asking, now)) throw Errors.signInNotRecent();
    const proof = await this.factor.prepare(user, { code: input.code }, now, { pending: true });
    if (typeof proof === 'string') throw Errors.setupCodeMismatch();
    const { codes, hashes } = this.factor.newRecoveryCodes(RECOVERY_CODE_COUNT);
    const state = { committed: false };
    const enable = () => this.uow.run(async (repos) => {
      repos.afterCommit(async () => {
        state.committed = true;
      });
      // The token may have stopped counting since it was checked (a global logout, a suspension): nothing then.
      const { user: fresh, now: lockedAt } = await lockAskingAccount(repos, { userId: user.id, sessionId: input.sessionId }, this.clock, this.settings.requireEmailVerification);
      await assertRecentSignIn(repos, input.sessionId, lockedAt);
      if (fresh.mfaEnabled) throw Errors.mfaAlreadyEnabled();
      // Set up again (or removed) since the code was checked: it proved another secret.
      if (proof.method !== 'totp' || !this.factor.holdsSecret(fresh, proof)) throw Errors.setupCodeMismatch();
      fresh.confirmTotp(hashes, lockedAt, proof.step);
      await endOtherAccess(repos, fresh, lockedAt, 'mfa_enabled', input.sessionId);
      await repos.users.save(fresh);
      await repos.audit.record(selfAuditEntry('mfa.enabled', input.client, fresh.id, lockedAt));
      await repos.emails.enqueue(securityNoticeEmail(fresh.email, { kind: 'mfa_enabled', occurredAt: lockedAt }, this.settings.publicUrl));
    });
    await this.factor.spending(user.id, proof, async () => {
      try {
        await enable();
      } catch (error) {
        // Committed, and what failed after it is the other sessions' revocation reaching the cache of every instance
        // (owed and retried; the cache logs it): MFA is on, and these codes exist nowhere else, so the answer carries
        // them. Until stop 65 it was the 503 "not yet everywhere", the codes were lost, and a retry got 409 "already
        // enabled" (a review of retries).
        if (!state.committed) throw error;
      }
    });
    return { backupCodes: codes };
  }
}
