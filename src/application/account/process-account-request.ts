import { inject, injectable } from 'inversify';
import { DomainError } from '@domain/shared/domain-error';
import { Email } from '@domain/user/email';
import { User } from '@domain/user/user';
import { UserId } from '@domain/user/user-id';
import { Username } from '@domain/user/username';
import type { AuthSettings } from '../shared/auth-settings';
import { accountExistsEmail, passwordResetEmail, registrationContestedEmail, registrationNotCompletedEmail } from '../shared/email-templates';
import type { AccountRequest, AccountRequestClaim, PendingAccountRequest } from '../ports/account-requests';
import type { Clock } from '../ports/clock';
import type { IdGenerator } from '../ports/id-generator';
import type { OpaqueTokens } from '../ports/opaque-tokens';
import type { Repositories, UnitOfWork } from '../ports/unit-of-work';
import { selfAuditEntry, unauthenticatedAuditEntry } from '../shared/audit-entry';
import type { ClientContext } from '../shared/client-context';
import { issueOneTimeToken } from '../shared/one-time-token-issuer';
import { RESET_TOKEN_TTL_SECONDS } from '../password/request-password-reset';
import { cutOffEarlierAccess } from '../session/revoke-sessions';
import { VerificationTokens } from './verification-tokens';
import { PORTS } from '../ports/tokens';

type Registration = Extract<AccountRequest, { kind: 'registration' }>;

/**
 * The per-account half of register, password reset and verification resend, run by the background worker on a
 * request the HTTP handler recorded: one transaction that marks the request processed and does the work (so a
 * retried request never acts twice). What happens here only ever shows in the owner's inbox.
 */
@injectable()
export class ProcessAccountRequest {
  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(VerificationTokens) private readonly verification: VerificationTokens,
    @inject(PORTS.OpaqueTokens) private readonly opaque: OpaqueTokens,
    @inject(PORTS.IdGenerator) private readonly ids: IdGenerator,
    @inject(PORTS.Clock) private readonly clock: Clock,
    @inject(PORTS.AuthSettings) private readonly settings: AuthSettings,
  ) {}

  async execute(claim: AccountRequestClaim, pending: PendingAccountRequest): Promise<void> {
    const { client } = pending;
    // Canonical as the version that recorded it had it: one from before stop 30 may name an IDN domain by its
    // A-labels (`x@xn--bcher-kva.example`), which is now the account of `x@bücher.example`.
    const request = { ...pending.request, email: Email.canonicalize(pending.request.email) };
    if (request.kind === 'registration') return this.register(claim, request, client);
    const now = this.clock.now();
    await this.uow.run(async (repos) => {
      if (!(await repos.accountRequests.complete(claim, now))) return;
      const seen = await repos.users.findByEmail(request.email);
      // Locked: the reset records an event on the user, saved on the newest row (never a stale copy).
      const user = seen && (await repos.users.findByIdForUpdate(seen.id));
      const at = this.clock.now(); // once the account's lock is held
      if (request.kind === 'verification_resend') {
        // Not to an account without a password (an unredeemed invitation, or a sign-up whose unproven password a
        // contest or an admin's role grant discarded): its verification link would activate it with no password, on
        // a request anyone may make, and leave its invitation link working (outside review, 2026-12-06). Nothing is
        // sent instead: no mail in store says the truth to both kinds, and POST /password/reset already mails such an
        // account a choose-a-password link that leaves the earlier one working. The 202 is unchanged: the handler
        // only records.
        if (user && !user.emailVerified && user.status !== 'suspended' && user.credentials.passwordHash !== null) {
          await repos.emails.enqueue(await this.verification.issue(repos, user, at));
        }
        return;
      }
      if (!user || user.status === 'suspended') {
        const reason = user ? 'account_disabled' : 'unknown_account';
        await repos.audit.record(unauthenticatedAuditEntry('password.reset_requested', client, user?.id ?? null, pending.requestedAt, reason));
        return;
      }
      const ttlSeconds = RESET_TOKEN_TTL_SECONDS;
      // A newer link replaces the older ones, except on an account that has no password yet: its earlier link is the
      // invitation's or the choose-a-password one (72 h), and anyone may ask for a reset of any address; voiding it
      // let a stranger cut every invitation to an hour (outside review, 2026-12-02). Both then work, once: setting
      // a password through either voids every link of the account.
      const replacePrevious = user.credentials.passwordHash !== null;
      const token = await issueOneTimeToken(repos, this.opaque, this.ids, { userId: user.id, purpose: 'password_reset', ttlSeconds, now: at, replacePrevious });
      user.requestPasswordReset(at);
      await repos.users.save(user);
      await repos.emails.enqueue(passwordResetEmail(user.email, this.settings.publicUrl, token, ttlSeconds));
      await repos.audit.record(unauthenticatedAuditEntry('password.reset_requested', client, user.id, pending.requestedAt));
    });
  }

  /** A new account, or an "account exists" email to the owner; the caller got the same 202 either way. */
  private async register(claim: AccountRequestClaim, request: Registration, client: ClientContext): Promise<void> {
    const now = this.clock.now();
    try {
      await this.uow.run(async (repos) => {
        if (!(await repos.accountRequests.complete(claim, now))) return;
        if (await this.toldOwner(repos, request.email, client)) return;
        const user = User.register(
          {
            id: UserId.create(this.ids.newId()),
            email: Email.create(request.email),
            username: request.username === null ? null : Username.create(request.username),
            firstName: request.firstName,
            lastName: request.lastName,
            passwordHash: request.passwordHash,
            emailVerified: false,
          },
          now,
        );
        await repos.users.add(user);
        await repos.audit.record(selfAuditEntry('user.registered', client, user.id, now));
        await repos.emails.enqueue(await this.verification.issue(repos, user, now));
      });
    } catch (error) {
      if (!(error instanceof DomainError) || (error.code !== 'EMAIL_ALREADY_REGISTERED' && error.code !== 'USERNAME_TAKEN')) throw error;
      // Another transaction took the address or the username after the handler looked (a race of two sign-ups,
      // or a username change): no account; the requester hears why by email, like an existing owner would.
      await this.uow.run(async (repos) => {
        if (!(await repos.accountRequests.complete(claim, now))) return;
        if (await this.toldOwner(repos, request.email, client)) return;
        await repos.emails.enqueue(registrationNotCompletedEmail(request.email, this.settings.publicUrl));
      });
    }
  }

  /**
   * The address has an account: no second one. A proven one's owner gets the "account exists" email. One that was
   * never verified is contested (account pre-hijacking: someone may have registered another's address first, with
   * a password of their own, and the owner's click on that sign-up's link would have activated it): its password,
   * profile, links and any sessions go, and the address gets a link to choose a password, which also proves it.
   * A suspended one is not contested: an administrator's decision, which a sign-up does not undo or unsettle (until
   * 2026-12-05 it wiped the account's password and profile, ended its sessions and mailed a link that a suspended
   * account cannot redeem: a security review). Its address is simply taken, as a proven one's is.
   */
  private async toldOwner(repos: Repositories, email: string, client: ClientContext): Promise<boolean> {
    const seen = await repos.users.findByEmail(email);
    if (!seen) return false;
    // Locked and read again, proven or not: an account deleted (or moved to another address) while this waited for
    // its lock has freed the address; the sign-up then creates the account ("you already have an account" would be
    // false, and the request lost). Taken again meanwhile: the insert's unique violation is handled by the caller.
    const existing = await repos.users.findByIdForUpdate(seen.id);
    if (!existing || existing.email !== seen.email) return false;
    const at = this.clock.now(); // once the account's lock is held
    const hadMfa = existing.mfaEnabled;
    if (existing.status === 'suspended' || !existing.discardUnprovenPassword(at)) {
      await repos.emails.enqueue(accountExistsEmail(existing.email, this.settings.publicUrl));
      return true;
    }
    await cutOffEarlierAccess(repos, existing, at, 'registration_contested');
    await repos.users.save(existing);
    const ttlSeconds = this.settings.verificationTokenTtlSeconds;
    const token = await issueOneTimeToken(repos, this.opaque, this.ids, { userId: existing.id, purpose: 'password_reset', ttlSeconds, now: at });
    await repos.emails.enqueue(registrationContestedEmail(existing.email, this.settings.publicUrl, token, ttlSeconds));
    // No actor: an anonymous sign-up did this to the account, not its holder (until stop 63 the rows named the account
    // as its own actor, and its activity showed the second factor switched off by itself from a stranger's address),
    // and the password's removal is recorded as what it is (it was not: only `user.registered`, a review).
    const contested = (type: 'credentials.updated' | 'mfa.disabled', reason: string) => ({ ...unauthenticatedAuditEntry(type, client, existing.id, at), reason });
    await repos.audit.record(unauthenticatedAuditEntry('user.registered', client, existing.id, at, 'contested_unverified'));
    await repos.audit.record(contested('credentials.updated', 'registration_contested'));
    // The second factor goes with the password (since stop 51): in the owner's activity as what it was.
    if (hadMfa) await repos.audit.record(contested('mfa.disabled', 'registration_contested'));
    return true;
  }
}
