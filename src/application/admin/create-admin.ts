import { inject, injectable } from 'inversify';
import { DomainError } from '@domain/shared/domain-error';
import { Email } from '@domain/user/email';
import { ADMIN_ROLE, Role, USER_ROLE } from '@domain/user/role';
import { User } from '@domain/user/user';
import { UserId } from '@domain/user/user-id';
import { cliAuditEntry } from '../shared/audit-entry';
import type { Clock } from '../ports/clock';
import type { IdGenerator } from '../ports/id-generator';
import type { PasswordHasher } from '../ports/password-hasher';
import type { UnitOfWork } from '../ports/unit-of-work';
import { Errors } from '../shared/errors';
import { PasswordPolicy } from '../password/password-policy';
import type { OpaqueTokens } from '../ports/opaque-tokens';
import type { AuthSettings } from '../shared/auth-settings';
import { adminRoleUnprovenAddressEmail } from '../shared/email-templates';
import { issueOneTimeToken } from '../shared/one-time-token-issuer';
import { cutOffEarlierAccess } from '../session/revoke-sessions';
import { INVITATION_TTL_SECONDS } from './invite-user';
import { PORTS } from '../ports/tokens';

/**
 * CLI `create-admin` (CONTRACT §8): a new active, verified account with roles ["user","admin"] and the given
 * password (the policy applies), or `admin` added to the existing account with this address (its password and
 * everything else untouched). `created` tells which.
 * One exception: an existing account whose address was never proven does not keep the password it was registered
 * with (account pre-hijacking: whoever registered the address first may not own it, and the owner's click on that
 * sign-up's link would have made that person an admin). The password goes, with any link or session, and the
 * address gets a link to choose one, which also proves it (`passwordDiscarded`), as when an admin confirms it.
 */
/** Look-ups of the address's account, each locked and checked to still hold it (a change may move it meanwhile). */
const LOOKUP_ATTEMPTS = 3;

@injectable()
export class CreateAdmin {
  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.PasswordHasher) private readonly hasher: PasswordHasher,
    @inject(PORTS.IdGenerator) private readonly ids: IdGenerator,
    @inject(PORTS.Clock) private readonly clock: Clock,
    @inject(PasswordPolicy) private readonly policy: PasswordPolicy,
    @inject(PORTS.OpaqueTokens) private readonly opaque: OpaqueTokens,
    @inject(PORTS.AuthSettings) private readonly settings: AuthSettings,
  ) {}

  async execute(input: {
    email: string;
    password: string;
    /**
     * false: the caller's APP_PUBLIC_URL is only the default (a CLI run without the service's environment), so a link
     * built from it would point at localhost. An account that would be mailed a link is then refused, untouched
     * (`linkBaseUnknown`), rather than sent a link that cannot work (an outside review's finding, 2026-12-05).
     */
    linkBaseKnown?: boolean;
  }): Promise<{ user: User; created: boolean; passwordDiscarded: boolean }> {
    const email = Email.create(input.email);
    const linkBaseKnown = input.linkBaseKnown ?? true;
    const existing = await this.promote(email, linkBaseKnown);
    if (existing) return { ...existing, created: false };
    const password = await this.policy.check(input.password, { email: email.value });
    const passwordHash = await this.hasher.hash(password.reveal());
    const now = this.clock.now();
    try {
      const user = await this.uow.run(async (repos) => {
        const fresh = User.register({ id: UserId.create(this.ids.newId()), email, username: null, firstName: null, lastName: null, passwordHash, emailVerified: true }, now);
        // Registered as a user, then promoted: subscribers learn the admin role from auth.user.roles_changed (the
        // registered event carries no roles), in the same commit.
        fresh.changeRoles(Role.list([USER_ROLE, ADMIN_ROLE]), now, fresh.id);
        await repos.users.add(fresh);
        await repos.audit.record(cliAuditEntry('user.registered', fresh.id, now));
        // The role change is audited too, as a promotion's is (review, stop 48).
        await repos.audit.record(cliAuditEntry('user.roles_changed', fresh.id, now));
        return fresh;
      });
      return { user, created: true, passwordDiscarded: false };
    } catch (error) {
      // Another create-admin (or a sign-up) created the address since the look-up: promote that account, as if it
      // had been there (an outside review, 2026-12-03: of three parallel runs for one new address, two failed).
      if (!(error instanceof DomainError) || error.code !== 'EMAIL_ALREADY_REGISTERED') throw error;
      const existing = await this.promote(email, linkBaseKnown);
      if (!existing) throw error;
      return { ...existing, created: false };
    }
  }

  /**
   * Adds `admin` to the account with this address, if there is one. The account is the one holding the address once
   * its lock is held: an address change confirmed between the look-up and the lock moved it away, and promoting it
   * gave the role to an account no longer at the address the operator named (a review, 2026-12-07); the look-up is
   * made again, so the address's new holder, or nobody (then a new admin is created), is what counts.
   */
  private async promote(email: Email, linkBaseKnown: boolean): Promise<{ user: User; passwordDiscarded: boolean } | null> {
    return this.uow.run(async (repos) => {
      let user: User | null = null;
      for (let attempt = 0; attempt < LOOKUP_ATTEMPTS && user === null; attempt += 1) {
        const seen = await repos.users.findByEmail(email.value);
        if (!seen) return null;
        const locked = await repos.users.findByIdForUpdate(seen.id);
        if (locked?.email === email.value) user = locked;
      }
      const now = this.clock.now(); // once the account's lock is held
      if (!user) throw Errors.userNotFound();
      // Checked before anything changes: the refusal leaves the account as it was.
      if (!linkBaseKnown && !user.emailVerified && user.credentials.passwordHash !== null) throw Errors.linkBaseUnknown();
      const hadMfa = user.mfaEnabled;
      const passwordDiscarded = user.discardUnprovenPassword(now);
      if (passwordDiscarded) await cutOffEarlierAccess(repos, user, now, 'password_unproven');
      const roles = user.roles.includes(ADMIN_ROLE) ? [...user.roles] : [...user.roles, ADMIN_ROLE];
      const promoted = user.changeRoles(Role.list(roles), now, user.id);
      if (passwordDiscarded) {
        const token = await issueOneTimeToken(repos, this.opaque, this.ids, { userId: user.id, purpose: 'password_reset', ttlSeconds: INVITATION_TTL_SECONDS, now });
        await repos.emails.enqueue(adminRoleUnprovenAddressEmail(user.email, this.settings.publicUrl, token, INVITATION_TTL_SECONDS));
        await repos.audit.record(cliAuditEntry('credentials.updated', user.id, now, 'cli_password_unproven'));
        if (hadMfa) await repos.audit.record(cliAuditEntry('mfa.disabled', user.id, now, 'cli_password_unproven'));
      }
      if (promoted || passwordDiscarded) await repos.users.save(user);
      if (promoted) await repos.audit.record(cliAuditEntry('user.roles_changed', user.id, now));
      return { user, passwordDiscarded };
    });
  }
}
