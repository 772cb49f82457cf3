import { Errors } from '../shared/errors';
import { DomainError } from '@domain/shared/domain-error';
import type { User } from '@domain/user/user';
import { inject, injectable } from 'inversify';
import { isRedeemable } from '@domain/token/one-time-token';
import { Password } from '@domain/user/password';
import type { AuthSettings } from '../shared/auth-settings';
import { passwordChangedEmail, passwordSetEmail } from '../shared/email-templates';
import type { Clock } from '../ports/clock';
import type { OpaqueTokens } from '../ports/opaque-tokens';
import type { PasswordHasher } from '../ports/password-hasher';
import type { LoginLockout } from '../ports/login-lockout';
import type { Repositories, UnitOfWork } from '../ports/unit-of-work';
import { selfAuditEntry } from '../shared/audit-entry';
import type { ClientContext } from '../shared/client-context';
import { clearLockout } from '../session/login-lockout-keys';
import { CurrentPasswordGuard } from './current-password';
import { PasswordPolicy } from './password-policy';
import { cutOffEarlierAccess } from '../session/revoke-sessions';
import { PORTS } from '../ports/tokens';

/** The audit reason of an invitation's roles dropped at its redemption (user.roles_changed). */
export const INVITER_NO_LONGER_ADMIN = 'inviter_no_longer_admin';

/**
 * The account's invitation is outstanding and its inviter is no longer an active admin who can sign in (deleted,
 * suspended, demoted: what lockActiveAdmins counts): the roles beyond `user` go. Called with the account's row
 * locked. The inviter is read, not locked: locking an admin row after a user's would invert the admin routes'
 * order (every active admin, then the target) and could deadlock with a PATCH of this account. A demotion that
 * commits after this read is one that came after the redemption, as if the link had been followed a moment
 * earlier: the account is then an active admin among the others, which that clean-up (or the next) sees and
 * removes. One that committed before the read is seen (each statement reads the latest commit).
 */
async function withdrawRolesOfRemovedInviter(repos: Repositories, user: User, now: Date): Promise<boolean> {
  const inviterId = user.pendingInviter;
  if (inviterId === null) return false;
  const inviter = await repos.users.findById(inviterId);
  if (inviter !== null && inviter.isActiveAdmin && inviter.credentials.passwordHash !== null) return false;
  return user.withdrawInvitedRoles(now);
}

export interface ConfirmPasswordResetInput {
  token: string;
  newPassword: string;
  client: ClientContext;
}

/**
 * Sets the new password with a single-use reset token, clears failed attempts and lockout (Credentials.changed),
 * revokes every session, voids every other link and a pending email change, and does not log in: the user
 * signs in again with the new password. An invitation's link keeps the roles it granted only while the inviting admin
 * still is one (since stop 52); else the account keeps `user` alone.
 */
@injectable()
export class ConfirmPasswordReset {
  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.PasswordHasher) private readonly hasher: PasswordHasher,
    @inject(PORTS.OpaqueTokens) private readonly opaque: OpaqueTokens,
    @inject(PORTS.Clock) private readonly clock: Clock,
    @inject(PORTS.AuthSettings) private readonly settings: AuthSettings,
    @inject(PasswordPolicy) private readonly policy: PasswordPolicy,
    @inject(PORTS.LoginLockout) private readonly lockout: LoginLockout,
    @inject(CurrentPasswordGuard) private readonly currentPassword: CurrentPasswordGuard,
  ) {}

  async execute(input: ConfirmPasswordResetInput): Promise<void> {
    // Policy first: a weak password must not spend the token.
    const password = Password.create(input.newPassword, this.settings.passwordMinLength);
    const hash = this.opaque.hash(input.token);
    // Looked up (not consumed) before hashing: a random token must not cost an argon2 hash.
    const owner = await this.uow.run(async (repos) => {
      const pending = await repos.oneTimeTokens.findByHash('password_reset', hash);
      return pending && isRedeemable(pending, 'password_reset', this.clock.now()) ? repos.users.findById(pending.userId) : null;
    });
    if (!owner) throw Errors.invalidLink();
    // The whole policy needs the owner (email, username and names, as at registration: the names were left out until
    // 2026-12-05, a security review); checked before the transaction, so no lock waits for it.
    await this.policy.check(input.newPassword, owner);
    const passwordHash = await this.hasher.hash(password.reveal(), input.client.signal);
    const now = this.clock.now();
    const committed: { user: User | null } = { user: null }; // set by the transaction's last step
    const reset = this.uow.run(async (repos) => {
      const token = await repos.oneTimeTokens.findByHash('password_reset', hash);
      if (!token || !isRedeemable(token, 'password_reset', now)) throw Errors.invalidLink();
      // The user's lock before the token's row (user first, everywhere): a reset request being processed locks the
      // user, then voids the user's older links; the other order would deadlock with it.
      const user = await repos.users.findByIdForUpdate(token.userId);
      // Dated once the lock is held: a change that committed during the wait comes before the reset in time too.
      const at = this.clock.now();
      if (!user || user.status === 'suspended' || !(await repos.oneTimeTokens.consume(token.id, at))) throw Errors.invalidLink();
      // An invitation's roles are its inviter's grant: redeemed only while that admin still is one (stop 52). Else a
      // stolen admin token's invitation of its own address outlived the clean-up (sessions revoked, suspended,
      // demoted, deleted) and signed in as an admin.
      const withdrawn = await withdrawRolesOfRemovedInviter(repos, user, at);
      const before = { verified: user.emailVerified, mfa: user.mfaEnabled, password: user.credentials.passwordHash !== null };
      user.resetPassword(passwordHash, at);
      await cutOffEarlierAccess(repos, user, at, 'password_reset');
      await repos.users.save(user);
      await repos.emails.enqueue((before.password ? passwordChangedEmail : passwordSetEmail)(user.email, this.settings.publicUrl));
      await repos.audit.record(selfAuditEntry('password.reset', input.client, user.id, at));
      // What the reset did besides (User.resetPassword): the link proved the address, and a first proof of an address
      // someone had chosen a password for takes that person's second factor. Until stop 63 only `password.reset` was
      // recorded, and neither showed in the owner's activity (a review).
      if (!before.verified && user.emailVerified) await repos.audit.record({ ...selfAuditEntry('email.verified', input.client, user.id, at), reason: 'password_reset' });
      if (before.mfa && !user.mfaEnabled) await repos.audit.record({ ...selfAuditEntry('mfa.disabled', input.client, user.id, at), reason: 'reset_unproven' });
      // No actor: no one changed the roles (neither the account nor the inviter); the reason says why they went.
      if (withdrawn) await repos.audit.record({ ...selfAuditEntry('user.roles_changed', input.client, user.id, at), actorId: null, reason: INVITER_NO_LONGER_ADMIN });
      committed.user = user;
      return user;
    });
    try {
      await reset;
    } catch (error) {
      // Committed, but not yet everywhere (the session cache unreachable: a 503): the reset stands, so its
      // lockout clear must happen too, or the lock would outlive the reset whose link is now spent.
      if (committed.user && error instanceof DomainError && error.code === 'SERVICE_UNAVAILABLE') await this.startAfresh(committed.user);
      throw error;
    }
    await this.startAfresh(await reset);
  }

  /**
   * The login lockout of every identifier of the account ends with a successful reset (CONTRACT §5), and so does the
   * count of wrong current passwords: guesses at the old password do not count against the new one (until stop 65
   * four of them before a reset made the owner's first typo afterwards the fifth, which ended every session: a
   * review of combined account flows).
   */
  private async startAfresh(user: User): Promise<void> {
    await clearLockout(this.lockout, user);
    await this.currentPassword.attempts.reset(CurrentPasswordGuard.subject(user.id));
  }
}
