import { Errors } from '../shared/errors';
import { inject, injectable } from 'inversify';
import { DomainError } from '@domain/shared/domain-error';
import { isRedeemable } from '@domain/token/one-time-token';
import type { User } from '@domain/user/user';
import { emailChangedEmail } from '../shared/email-templates';
import type { Clock } from '../ports/clock';
import type { OpaqueTokens } from '../ports/opaque-tokens';
import type { Repositories, UnitOfWork } from '../ports/unit-of-work';
import { selfAuditEntry } from '../shared/audit-entry';
import { type ClientContext, UNKNOWN_CLIENT } from '../shared/client-context';
import { PORTS } from '../ports/tokens';

/** A unique violation seen once means the rival has committed: the next look sees it. Three is ample. */
const ATTEMPTS = 3;

/**
 * Redeems a link mailed to an address: the registration's verification, or the confirmation of a new address
 * (email change), which replaces the login address and tells the old one.
 * A new address that has an account by now (registered, verified or not, or another user's change confirmed
 * first, after this link was mailed) cannot be taken: the link answers as a dead one (INVALID_OR_EXPIRED_TOKEN,
 * CONTRACT lists no 409 for /verify), is spent, and the pending change is dropped, so that it does not come back
 * to life should that account go away.
 */
@injectable()
export class VerifyEmail {
  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.OpaqueTokens) private readonly opaque: OpaqueTokens,
    @inject(PORTS.Clock) private readonly clock: Clock,
  ) {}

  async execute(input: { token: string; client?: ClientContext }): Promise<User> {
    const hash = this.opaque.hash(input.token);
    const client = input.client ?? UNKNOWN_CLIENT;
    for (let attempt = 1; ; attempt += 1) {
      try {
        const user = await this.redeem(hash, client);
        if (user === null) throw Errors.invalidLink();
        return user;
      } catch (error) {
        // Another account took the address after this transaction looked (two confirms to one address, or a
        // sign-up, racing): the unique index refused the save and everything rolled back, the link unspent. Once
        // more in a new transaction, which sees the rival's committed row and spends the link.
        if (!(error instanceof DomainError) || error.code !== 'EMAIL_ALREADY_REGISTERED') throw error;
        if (attempt === ATTEMPTS) throw Errors.invalidLink();
      }
    }
  }

  /** The verified (or moved) user; null when the new address was taken: the link is spent and the change dropped. */
  private redeem(hash: string, client: ClientContext): Promise<User | null> {
    const now = this.clock.now();
    return this.uow.run(async (repos) => {
      const token =
        (await repos.oneTimeTokens.findByHash('email_verification', hash)) ?? (await repos.oneTimeTokens.findByHash('email_change', hash));
      if (!token || !isRedeemable(token, token.purpose, now)) throw Errors.invalidLink();
      // The user's lock before the token's row (user first, everywhere; see ConfirmPasswordReset).
      const user = await repos.users.findByIdForUpdate(token.userId);
      // Dated once the lock is held: a change that committed during the wait comes before this one in time too.
      const at = this.clock.now();
      if (!user || !(await repos.oneTimeTokens.consume(token.id, at))) throw Errors.invalidLink();
      if (token.purpose === 'email_change') return this.moveAddress(repos, user, client, at);
      user.verifyEmail(at);
      await repos.users.save(user);
      await repos.audit.record(selfAuditEntry('email.verified', client, user.id, at));
      return user;
    });
  }

  private async moveAddress(repos: Repositories, user: User, client: ClientContext, now: Date): Promise<User | null> {
    if (user.pendingEmail !== null && (await repos.users.findByEmail(user.pendingEmail))) {
      user.cancelEmailChange(now);
      await repos.oneTimeTokens.consumeAllFor(user.id, 'email_change', now);
      await repos.users.save(user);
      return null;
    }
    const previous = user.confirmEmailChange(now);
    // The login address moved: a reset or verification link mailed to the old one must not open the account.
    await repos.oneTimeTokens.consumeAllOfUser(user.id, now);
    await repos.users.save(user);
    await repos.emails.enqueue(emailChangedEmail(previous, user.email));
    await repos.audit.record(selfAuditEntry('email.verified', client, user.id, now));
    return user;
  }
}
