import { inject, injectable } from 'inversify';
import { Email } from '@domain/user/email';
import type { User } from '@domain/user/user';
import type { UserRepository } from '@domain/user/user.repository';
import { Username } from '@domain/user/username';
import { selfAuditEntry } from '../shared/audit-entry';
import { lockAskingAccount } from '../shared/asking-session';
import type { ClientContext } from '../shared/client-context';
import type { AuthSettings } from '../shared/auth-settings';
import { accountExistsEmail, emailChangeRequestedEmail, emailChangeVerificationEmail } from '../shared/email-templates';
import type { Clock } from '../ports/clock';
import type { IdGenerator } from '../ports/id-generator';
import type { OpaqueTokens } from '../ports/opaque-tokens';
import type { PasswordHasher } from '../ports/password-hasher';
import type { RateLimitPolicy, RateLimitResult, RateLimiter } from '../ports/rate-limiter';
import type { Repositories, UnitOfWork } from '../ports/unit-of-work';
import { issueOneTimeToken } from '../shared/one-time-token-issuer';
import { assertCurrentPassword, CurrentPasswordGuard, found, wrongPassword } from '../password/current-password';
import { PORTS } from '../ports/tokens';
import { stillHoldsPassword } from '../shared/password-match';

export interface UpdateCredentialsInput {
  userId: string;
  /** The access token's session, revoked after too many wrong passwords. */
  sessionId: string;
  currentPassword: string;
  email?: string | undefined;
  /** `null` removes the username. */
  username?: string | null | undefined;
  client: ClientContext;
  /**
   * Told the new address's quota (AuthSettings.claimsPerAddress) once consumed: the transport counts a refusal for
   * its operators, and must not show it to the caller (no RateLimit header, no other answer).
   */
  onQuota?: (policy: RateLimitPolicy, result: RateLimitResult) => void;
}

/**
 * A username changes at once. A new email is only pending: the link mailed to it must be followed (POST
 * /auth/verify) before it replaces the login address, and the old address is told when it does. An address
 * that already has an account gets the "account exists" email instead of a link, and the answer is the same.
 * Either mail counts in the address's quota shared with sign-ups (claimsPerAddress): past it the change is recorded
 * and answered as always and the owner still told, but the new address gets nothing (no link is issued); asking
 * again once the window has passed mails it. Without it a few accounts could mail one address without bound (a
 * security review); a refusal shown to the caller would tell them others had been claiming that address.
 */
@injectable()
export class UpdateCredentials {
  constructor(
    @inject(PORTS.UserRepository) private readonly users: UserRepository,
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.PasswordHasher) private readonly hasher: PasswordHasher,
    @inject(PORTS.OpaqueTokens) private readonly opaque: OpaqueTokens,
    @inject(PORTS.IdGenerator) private readonly ids: IdGenerator,
    @inject(PORTS.Clock) private readonly clock: Clock,
    @inject(PORTS.AuthSettings) private readonly settings: AuthSettings,
    @inject(PORTS.RateLimiter) private readonly limiter: RateLimiter,
    @inject(CurrentPasswordGuard) private readonly guard: CurrentPasswordGuard,
  ) {}

  async execute(input: UpdateCredentialsInput): Promise<User> {
    const email = input.email === undefined ? null : Email.create(input.email);
    const username = input.username === undefined || input.username === null ? input.username : Username.create(input.username);
    const user = found(await this.users.findById(input.userId));
    const failure = selfAuditEntry('credentials.updated', input.client, user.id, this.clock.now(), 'wrong_password');
    await assertCurrentPassword(this.hasher, this.uow, user, input.currentPassword, failure, { guard: this.guard, sessionId: input.sessionId, signal: input.client.signal });
    const { updated, quota } = await this.uow.run(async (repos) => {
      const { user: fresh, now } = await lockAskingAccount(repos, { userId: user.id, sessionId: input.sessionId }, this.clock, this.settings.requireEmailVerification);
      // Changed meanwhile (a reset): the password just checked is no longer the current one.
      if (!(await stillHoldsPassword(this.hasher, fresh.credentials, user.credentials, input.currentPassword, input.client.signal))) throw wrongPassword();
      const before = { username: fresh.username, pendingEmail: fresh.pendingEmail };
      if (username !== undefined) fresh.changeUsername(username, now);
      let charged: RateLimitResult | null = null;
      let requested = false;
      if (email !== null) {
        await repos.oneTimeTokens.consumeAllFor(fresh.id, 'email_change', now);
        requested = fresh.requestEmailChange(email, now);
        if (requested) {
          // Charged before the address is looked up: taken or free, the same count.
          charged = await this.consumeAddressQuota(email.value);
          if (charged?.allowed !== false) await this.sendConfirmation(repos, fresh.id, email.value, now);
          // The owner hears of it while it can still be stopped (a reset voids the pending change).
          await repos.emails.enqueue(emailChangeRequestedEmail(fresh.email, email.value, this.settings.publicUrl));
        }
      }
      await repos.users.save(fresh);
      // Naming the current username or address (none pending) changes nothing: no entry (until stop 65 the owner's
      // activity showed a credential change that never happened: a review of account flows).
      const changed = requested || fresh.username !== before.username || fresh.pendingEmail !== before.pendingEmail;
      if (changed) await repos.audit.record(selfAuditEntry('credentials.updated', input.client, fresh.id, now));
      return { updated: fresh, quota: charged };
    });
    if (quota && this.settings.claimsPerAddress) input.onQuota?.(this.settings.claimsPerAddress, quota);
    return updated;
  }

  private async consumeAddressQuota(address: string): Promise<RateLimitResult | null> {
    const policy = this.settings.claimsPerAddress;
    // The key the register route counts the address under (its canonical form), so both share one counter.
    return policy ? this.limiter.consume(policy, address) : null;
  }

  /**
   * The same writes whether the address is taken or free: a token row (spent from the start for a taken one, whose
   * mail carries no link) and an email. The answer waits on them, so a taken address must cost what a free one does,
   * or the change's timing tells a caller whether an address has an account (a review, 2026-12-07: a free one cost
   * two more statements). Earlier links of the change were voided above, in this transaction.
   */
  private async sendConfirmation(repos: Repositories, userId: string, address: string, now: Date): Promise<void> {
    const taken = (await repos.users.findByEmail(address)) !== null;
    const ttl = this.settings.verificationTokenTtlSeconds;
    const request = { userId, purpose: 'email_change' as const, ttlSeconds: ttl, now, replacePrevious: false, voided: taken };
    const token = await issueOneTimeToken(repos, this.opaque, this.ids, request);
    await repos.emails.enqueue(taken ? accountExistsEmail(address, this.settings.publicUrl) : emailChangeVerificationEmail(address, this.settings.publicUrl, token, ttl));
  }
}
