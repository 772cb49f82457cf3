import { inject, injectable } from 'inversify';
import type { User } from '@domain/user/user';
import type { UserRepository } from '@domain/user/user.repository';
import { selfAuditEntry } from '../shared/audit-entry';
import { lockAskingAccount } from '../shared/asking-session';
import type { AuthSettings } from '../shared/auth-settings';
import type { ClientContext } from '../shared/client-context';
import { revokeSessions } from '../session/revoke-sessions';
import { accountDeletedEmail } from '../shared/email-templates';
import type { Clock } from '../ports/clock';
import type { PasswordHasher } from '../ports/password-hasher';
import type { UnitOfWork } from '../ports/unit-of-work';
import { assertCurrentPassword, CurrentPasswordGuard, found, wrongPassword } from '../password/current-password';
import { PORTS } from '../ports/tokens';
import { Errors } from '../shared/errors';
import { stillHoldsPassword } from '../shared/password-match';

/**
 * Deletes the account for good, password required: the user row with its credentials, sessions and one-time
 * tokens. The events (auth.session.revoked for each session, auth.user.deleted) and the audit entries keep
 * the user id; the goodbye email is queued in the same transaction. The last active admin is refused
 * (CONFLICT, last_active_admin), as the admin API refuses to remove them.
 */
@injectable()
export class DeleteAccount {
  constructor(
    @inject(PORTS.UserRepository) private readonly users: UserRepository,
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.PasswordHasher) private readonly hasher: PasswordHasher,
    @inject(PORTS.Clock) private readonly clock: Clock,
    @inject(CurrentPasswordGuard) private readonly guard: CurrentPasswordGuard,
    @inject(PORTS.AuthSettings) private readonly settings: AuthSettings,
  ) {}

  /** `sessionId`: the access token's session, revoked after too many wrong passwords. */
  async execute(input: { userId: string; sessionId: string; password: string; client: ClientContext }): Promise<void> {
    const user = found(await this.users.findById(input.userId));
    const failure = selfAuditEntry('account.deleted', input.client, user.id, this.clock.now(), 'wrong_password');
    await assertCurrentPassword(this.hasher, this.uow, user, input.password, failure, { guard: this.guard, sessionId: input.sessionId, signal: input.client.signal });
    // An admin's deletion locks the admins first, as every admin change does (then the user): the last active admin
    // may not leave. Anyone else's locks only their own rows: every deletion used to lock every admin's row, so
    // deletions queued one behind another and admins' logins waited on them (an outside review, 2026-12-02). One
    // who became an admin since the read is found so under the lock, and the deletion starts again, admins first.
    const deleted = await this.remove(input, user, user.isActiveAdmin);
    if (!deleted) await this.remove(input, user, true);
  }

  /** False: the account turned out to be an admin with the admins unlocked (nothing done; run again with them). */
  private remove(input: { userId: string; sessionId: string; password: string; client: ClientContext }, user: User, lockingAdmins: boolean): Promise<boolean> {
    return this.uow.run(async (repos) => {
      const admins = lockingAdmins ? await repos.users.lockActiveAdmins() : null;
      const { user: fresh, now } = await lockAskingAccount(repos, { userId: user.id, sessionId: input.sessionId }, this.clock, this.settings.requireEmailVerification);
      if (fresh.isActiveAdmin && admins === null) return false;
      if (fresh.isActiveAdmin && !admins?.some((id) => id !== fresh.id)) throw Errors.lastActiveAdmin();
      // Changed meanwhile (a reset): the password just checked is no longer the current one.
      if (!(await stillHoldsPassword(this.hasher, fresh.credentials, user.credentials, input.password, input.client.signal))) throw wrongPassword();
      await revokeSessions(repos, fresh.id, now, 'account_deleted');
      fresh.markDeleted(now);
      await repos.users.delete(fresh);
      await repos.emails.enqueue(accountDeletedEmail(fresh.email, 'owner'));
      await repos.audit.record(selfAuditEntry('account.deleted', input.client, fresh.id, now));
      return true;
    });
  }
}
