import { inject, injectable } from 'inversify';
import { Email } from '@domain/user/email';
import { personName } from '@domain/user/person-name';
import { Role, USER_ROLE } from '@domain/user/role';
import { User } from '@domain/user/user';
import { UserId } from '@domain/user/user-id';
import type { AuthSettings } from '../shared/auth-settings';
import { invitationEmail } from '../shared/email-templates';
import { issueOneTimeToken } from '../shared/one-time-token-issuer';
import type { Clock } from '../ports/clock';
import type { IdGenerator } from '../ports/id-generator';
import type { OpaqueTokens } from '../ports/opaque-tokens';
import type { UnitOfWork } from '../ports/unit-of-work';
import { adminAuditEntry, lockAdmins, type AdminActor } from './admin-guard';
import { PORTS } from '../ports/tokens';

/** 72 hours (CONTRACT §3/§4). */
export const INVITATION_TTL_SECONDS = 72 * 3600;

export interface InviteUserInput {
  actor: AdminActor;
  email: string;
  firstName?: string | null;
  lastName?: string | null;
  /** Default ["user"]. */
  roles?: readonly string[];
}

/**
 * POST /admin/users: an account without a password, its address unproven, and an invitation email whose link
 * is a password-reset token living 72 h: /auth/password/confirm sets the password and verifies the address.
 * An address already registered is a 409 (an admin may know which accounts exist).
 * Roles other than ["user"] are recorded as a role change by the inviting admin (auth.user.roles_changed and a
 * user.roles_changed audit entry), after auth.user.registered and user.invited. The account records its inviter
 * (users.invited_by): ConfirmPasswordReset redeems the roles only while that admin still is one.
 */
@injectable()
export class InviteUser {
  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.OpaqueTokens) private readonly opaque: OpaqueTokens,
    @inject(PORTS.IdGenerator) private readonly ids: IdGenerator,
    @inject(PORTS.Clock) private readonly clock: Clock,
    @inject(PORTS.AuthSettings) private readonly settings: AuthSettings,
  ) {}

  async execute(input: InviteUserInput): Promise<User> {
    const email = Email.create(input.email);
    const roles = Role.list(input.roles ?? [USER_ROLE]);
    const firstName = personName(input.firstName, 'first_name') ?? null;
    const lastName = personName(input.lastName, 'last_name') ?? null;
    const now = this.clock.now();
    return this.uow.run(async (repos) => {
      await lockAdmins(repos, input.actor, now);
      // Invited as a user, then given the roles asked for: subscribers learn a role from auth.user.roles_changed
      // (the registered event carries no roles), in the same commit, with the inviting admin as its actor, as
      // CreateAdmin does for its new account and the PATCH route for a later change (review, stop 48).
      // The inviter is recorded on the account: the roles are that admin's grant until the link is redeemed, and
      // redeeming it drops them if the admin is no longer one (stop 52: a stolen admin token's invitation outlived
      // the clean-up of that admin).
      const user = User.invite(
        { id: UserId.create(this.ids.newId()), email, firstName, lastName, roles: [USER_ROLE], invitedBy: input.actor.id },
        now,
      );
      const rolesChanged = user.changeRoles(roles, now, input.actor.id);
      await repos.users.add(user);
      const ttlSeconds = INVITATION_TTL_SECONDS;
      const token = await issueOneTimeToken(repos, this.opaque, this.ids, { userId: user.id, purpose: 'password_reset', ttlSeconds, now });
      await repos.emails.enqueue(invitationEmail(user.email, this.settings.publicUrl, token, ttlSeconds));
      await repos.audit.record(adminAuditEntry('user.invited', input.actor, user.id, now));
      // The reason names the new roles, as UpdateUser's entry does.
      if (rolesChanged) await repos.audit.record(adminAuditEntry('user.roles_changed', input.actor, user.id, now, user.roles.join(' ')));
      return user;
    });
  }
}
