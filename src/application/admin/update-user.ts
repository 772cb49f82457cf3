import { inject, injectable } from 'inversify';
import { Role } from '@domain/user/role';
import type { User } from '@domain/user/user';
import type { Clock } from '../ports/clock';
import type { IdGenerator } from '../ports/id-generator';
import type { OpaqueTokens } from '../ports/opaque-tokens';
import type { AuthSettings } from '../shared/auth-settings';
import { addressConfirmedEmail, rolesGrantedUnprovenAddressEmail } from '../shared/email-templates';
import { issueOneTimeToken } from '../shared/one-time-token-issuer';
import { INVITATION_TTL_SECONDS } from './invite-user';
import type { UnitOfWork } from '../ports/unit-of-work';
import { cutOffEarlierAccess } from '../session/revoke-sessions';
import { adminAuditEntry, assertMayRemoveAdmin, lockAdmins, lockedUser, type AdminActor } from './admin-guard';
import { PORTS } from '../ports/tokens';

export interface UpdateUserInput {
  actor: AdminActor;
  userId: string;
  status?: 'active' | 'suspended';
  roles?: readonly string[];
  /** Only `true`: an admin may confirm an address, never un-confirm it. */
  emailVerified?: true;
}

/**
 * PATCH /admin/users/:id, in one transaction: confirm the address, replace the roles, suspend or reinstate.
 * Confirming a never-verified account's address discards its password (chosen before the address was proven)
 * and mails a link to choose one. So does granting a never-verified account a role it did not have: whoever
 * registered the address first may not own it, and the owner's later click on that sign-up's link would hand
 * that person the role (an outside review, 2026-12-05; CLI `create-admin` did this already).
 * Suspension revokes every session and voids outstanding links at once (cutOffEarlierAccess: the session cache
 * refuses them before the commit is visible). An admin who would stop being an active admin (demoted or
 * suspended) may not be the actor, nor the last one (admin-guard.ts). Each change is audited with the actor
 * and records its event (auth.user.status_changed, auth.user.roles_changed, auth.user.email_verified); the
 * audit reason of a status change is the new status, of a role change the new roles (space-separated).
 */
@injectable()
export class UpdateUser {
  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.Clock) private readonly clock: Clock,
    @inject(PORTS.OpaqueTokens) private readonly opaque: OpaqueTokens,
    @inject(PORTS.IdGenerator) private readonly ids: IdGenerator,
    @inject(PORTS.AuthSettings) private readonly settings: AuthSettings,
  ) {}

  async execute(input: UpdateUserInput): Promise<User> {
    const roles = input.roles === undefined ? undefined : Role.list(input.roles);
    return this.uow.run(async (repos) => {
      const admins = await lockAdmins(repos, input.actor, this.clock.now());
      const user = await lockedUser(repos, input.userId);
      // The roles are in every access token: refreshes that read the account before this change must not write
      // after it with the old ones (each fails its compare-and-set and decides again under the lock).
      if (roles !== undefined) await repos.sessions.fenceRefreshes(user.id);
      // Dated once the locks are held and the refreshes fenced, not before the wait for them: a login or refresh
      // that signed a token with the old roles wrote before that (guarded by this row or its session's), or fails
      // its guard (UnitOfWork.runIfUnchanged, SessionRepository.saveIfCurrent). So a role taken away is dated after
      // the iat of every token that still carries it, and the SDK's revocation feed, which cuts a user's tokens off
      // by iat, refuses them all (an outside review, 2026-12-03: a refresh during the wait got through).
      const now = this.clock.now();
      const wasAdmin = user.isActiveAdmin;
      const audit = (type: Parameters<typeof adminAuditEntry>[0], reason: string | null = null) =>
        repos.audit.record(adminAuditEntry(type, input.actor, user.id, now, reason));
      let passwordLink = false;
      if (input.emailVerified === true && !user.emailVerified) {
        // The admin vouches for the address, not for a password chosen before anyone proved it (account
        // pre-hijacking: whoever registered the address first may not own it). That password goes, with any link
        // or session, and the address gets a link to choose one, as an invitation does (issued below).
        const hadMfa = user.mfaEnabled;
        passwordLink = user.discardUnprovenPassword(now, input.actor.id);
        if (passwordLink) await cutOffEarlierAccess(repos, user, now, 'password_unproven');
        // Audited as the password's removal too, as a role grant's is (a review of stop 60: only `email.verified`, whose
        // reason the API never shows, recorded it, so the trail filtered by `credentials.updated` missed it).
        if (passwordLink) await audit('credentials.updated', 'admin_password_unproven');
        // Its second factor goes with it (since stop 51), in the owner's activity as the admin's doing.
        if (passwordLink && hadMfa) await audit('mfa.disabled', 'admin_password_unproven');
        user.verifyEmail(now);
        await audit('email.verified', passwordLink ? 'admin_password_unproven' : 'admin');
      }
      let grantLink = false;
      if (roles !== undefined) {
        const granted = roles.some((role) => !user.roles.includes(role.value));
        const hadMfa = user.mfaEnabled;
        if (granted && user.discardUnprovenPassword(now, input.actor.id)) {
          grantLink = true;
          await cutOffEarlierAccess(repos, user, now, 'password_unproven');
          await audit('credentials.updated', 'admin_password_unproven');
          if (hadMfa) await audit('mfa.disabled', 'admin_password_unproven');
        }
        if (user.changeRoles(roles, now, input.actor.id)) await audit('user.roles_changed', user.roles.join(' ') || null);
      }
      let suspended = false;
      if (input.status === 'suspended') suspended = user.suspend(now, input.actor.id);
      const reinstated = input.status === 'active' && user.reinstate(now, input.actor.id, this.settings.requireEmailVerification);
      if (wasAdmin && !user.isActiveAdmin) assertMayRemoveAdmin(admins, input.actor.id, user);
      if (suspended || reinstated) await audit('user.status_changed', user.status);
      if (suspended) await cutOffEarlierAccess(repos, user, now, 'account_suspended');
      // After any cut-off of this same change (a suspension voids every link): the link mailed must work, here once
      // the account is reinstated (a reset is refused while it is suspended), within its 72 hours.
      if (passwordLink || grantLink) {
        const token = await issueOneTimeToken(repos, this.opaque, this.ids, { userId: user.id, purpose: 'password_reset', ttlSeconds: INVITATION_TTL_SECONDS, now });
        const mail = passwordLink ? addressConfirmedEmail : rolesGrantedUnprovenAddressEmail;
        await repos.emails.enqueue(mail(user.email, this.settings.publicUrl, token, INVITATION_TTL_SECONDS));
      }
      await repos.users.save(user);
      return user;
    });
  }
}
