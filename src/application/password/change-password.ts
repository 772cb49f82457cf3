import { inject, injectable } from 'inversify';
import type { UserRepository } from '@domain/user/user.repository';
import type { AuthSettings } from '../shared/auth-settings';
import { passwordChangedEmail } from '../shared/email-templates';
import type { Clock } from '../ports/clock';
import type { PasswordHasher } from '../ports/password-hasher';
import type { UnitOfWork } from '../ports/unit-of-work';
import { assertCurrentPassword, CurrentPasswordGuard, found, wrongPassword } from './current-password';
import { selfAuditEntry } from '../shared/audit-entry';
import { lockAskingAccount } from '../shared/asking-session';
import type { ClientContext } from '../shared/client-context';
import { PasswordPolicy } from './password-policy';
import { cutOffEarlierAccess } from '../session/revoke-sessions';
import { PORTS } from '../ports/tokens';
import { stillHoldsPassword } from '../shared/password-match';

export interface ChangePasswordInput {
  userId: string;
  /** The session making the change (the access token's `sid`): it stays, every other one is revoked. */
  sessionId: string;
  currentPassword: string;
  newPassword: string;
  client: ClientContext;
}

@injectable()
export class ChangePassword {
  constructor(
    @inject(PORTS.UserRepository) private readonly users: UserRepository,
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.PasswordHasher) private readonly hasher: PasswordHasher,
    @inject(PORTS.Clock) private readonly clock: Clock,
    @inject(PORTS.AuthSettings) private readonly settings: AuthSettings,
    @inject(PasswordPolicy) private readonly policy: PasswordPolicy,
    @inject(CurrentPasswordGuard) private readonly guard: CurrentPasswordGuard,
  ) {}

  async execute(input: ChangePasswordInput): Promise<void> {
    const user = found(await this.users.findById(input.userId));
    // The account itself is the owner: its email, username and names, as at registration (until 2026-12-05 the names
    // were left out here and at reset, so `Featherstonehaugh1984` passed for an account named Featherstonehaugh: a security review).
    const password = await this.policy.check(input.newPassword, user);
    const failure = selfAuditEntry('password.changed', input.client, user.id, this.clock.now(), 'wrong_password');
    await assertCurrentPassword(this.hasher, this.uow, user, input.currentPassword, failure, { guard: this.guard, sessionId: input.sessionId, signal: input.client.signal });
    const passwordHash = await this.hasher.hash(password.reveal(), input.client.signal);
    await this.uow.run(async (repos) => {
      const { user: fresh, now } = await lockAskingAccount(repos, { userId: user.id, sessionId: input.sessionId }, this.clock, this.settings.requireEmailVerification);
      // Changed meanwhile (a reset): the password just checked is no longer the current one.
      if (!(await stillHoldsPassword(this.hasher, fresh.credentials, user.credentials, input.currentPassword, input.client.signal))) throw wrongPassword();
      fresh.changePassword(passwordHash, now);
      await cutOffEarlierAccess(repos, fresh, now, 'password_changed', input.sessionId);
      await repos.users.save(fresh);
      await repos.emails.enqueue(passwordChangedEmail(fresh.email, this.settings.publicUrl));
      await repos.audit.record(selfAuditEntry('password.changed', input.client, fresh.id, now));
    });
  }
}
