import { inject, injectable } from 'inversify';
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
import { securityNoticeEmail } from '../shared/security-notices';
import { MfaLockout, recordSecondFactorLock } from './mfa-lockout';
import { SecondFactor, type SecondFactorProof } from './second-factor';
import { PORTS } from '../ports/tokens';
import { stillHoldsPassword } from '../shared/password-match';

export interface DisableTotpInput {
  userId: string;
  /** The asking session (`sid`): ended after too many wrong current passwords. */
  sessionId: string;
  password: string;
  proof: SecondFactorProof;
  client: ClientContext;
}

/**
 * Turns the second factor off: the current password and a code (or a backup code) are both needed, so neither a
 * stolen access token nor a stolen phone alone can do it. Wrong codes count toward the account's MFA lockout; a
 * replayed one (right, its step spent: e.g. the code that just signed in) is refused without counting, as at login.
 * Audited, `auth.mfa.disabled`, a notice to the account's address. The wrong code that locks the second step is
 * recorded as at login: `auth.account.locked` (factor `second_factor`), its notice, pending logins voided.
 */
@injectable()
export class DisableTotp {
  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.UserRepository) private readonly users: UserRepository,
    @inject(PORTS.PasswordHasher) private readonly hasher: PasswordHasher,
    @inject(CurrentPasswordGuard) private readonly guard: CurrentPasswordGuard,
    @inject(SecondFactor) private readonly factor: SecondFactor,
    @inject(MfaLockout) private readonly lockout: MfaLockout,
    @inject(PORTS.Clock) private readonly clock: Clock,
    @inject(PORTS.AuthSettings) private readonly settings: AuthSettings,
  ) {}

  async execute(input: DisableTotpInput): Promise<void> {
    const user = found(await this.users.findById(input.userId));
    if (!user.mfaEnabled) throw Errors.mfaNotEnabled();
    const failure = selfAuditEntry('mfa.disabled', input.client, user.id, this.clock.now(), 'wrong_password');
    await assertCurrentPassword(this.hasher, this.uow, user, input.password, failure, { guard: this.guard, sessionId: input.sessionId, signal: input.client.signal });
    const now = this.clock.now();
    await this.lockout.reserve(user.id, now);
    let settled = false;
    try {
      const proof = await this.factor.prepare(user, input.proof, now);
      const outcome =
        typeof proof === 'string'
          ? proof
          : await this.factor.spending(user.id, proof, () => this.uow.run(async (repos) => {
              const { user: fresh, now: lockedAt } = await lockAskingAccount(repos, { userId: user.id, sessionId: input.sessionId }, this.clock, this.settings.requireEmailVerification);
              if (!(await stillHoldsPassword(this.hasher, fresh.credentials, user.credentials, input.password, input.client.signal))) throw wrongPassword();
              if (!fresh.mfaEnabled) throw Errors.mfaNotEnabled();
              const spent = this.factor.spend(fresh, proof, lockedAt);
              if (spent !== 'spent') return spent;
              await this.lockout.succeed(user.id, lockedAt);
              settled = true;
              fresh.disableMfa(lockedAt);
              await repos.users.save(fresh);
              // Pending second steps die with the factor: one must not come back to life if MFA is turned on again.
              await repos.oneTimeTokens.consumeAllFor(fresh.id, 'mfa_pending', lockedAt);
              await repos.audit.record(selfAuditEntry('mfa.disabled', input.client, fresh.id, lockedAt));
              await repos.emails.enqueue(securityNoticeEmail(fresh.email, { kind: 'mfa_disabled', occurredAt: lockedAt, bySupport: false }, this.settings.publicUrl));
              return 'spent';
            }));
      if (outcome === 'spent') return;
      // A replay is refused alike but counts nothing (its reservation is released below).
      let lockSeconds: number | null = null;
      if (outcome === 'wrong') {
        settled = true;
        const failed = await this.lockout.fail(user.id, now);
        if (failed.lockedNow) lockSeconds = failed.lockSeconds;
      }
      const reason = outcome === 'wrong' ? 'wrong_mfa_code' : 'mfa_code_replayed';
      await this.uow.run(async (repos) => {
        await repos.audit.record(selfAuditEntry('mfa.disabled', input.client, user.id, now, reason));
        // The account's second step is locked now (its counter is the login's): recorded and told as there, for
        // whoever typed these codes knew the password and held a session.
        if (lockSeconds === null) return;
        const locked = await repos.users.findByIdForUpdate(user.id);
        await recordSecondFactorLock(repos, locked, user.id, lockSeconds, now, input.client, true);
        if (locked) await repos.users.save(locked);
      });
      throw Errors.wrongMfaCode();
    } finally {
      if (!settled) await this.lockout.release(user.id);
    }
  }
}
