import { Errors } from '../shared/errors';
import { inject, injectable } from 'inversify';
import { isRedeemable } from '@domain/token/one-time-token';
import type { User } from '@domain/user/user';
import { emailChangedEmail } from '../shared/email-templates';
import type { Clock } from '../ports/clock';
import type { OpaqueTokens } from '../ports/opaque-tokens';
import type { UnitOfWork } from '../ports/unit-of-work';
import { selfAuditEntry } from '../shared/audit-entry';
import { type ClientContext, UNKNOWN_CLIENT } from '../shared/client-context';
import { PORTS } from '../ports/tokens';

/**
 * Redeems a link mailed to an address: the registration's verification, or the confirmation of a new address
 * (email change), which replaces the login address and tells the old one.
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
    const now = this.clock.now();
    return this.uow.run(async (repos) => {
      const token =
        (await repos.oneTimeTokens.findByHash('email_verification', hash)) ?? (await repos.oneTimeTokens.findByHash('email_change', hash));
      if (!token || !isRedeemable(token, token.purpose, now)) throw Errors.invalidLink();
      // The user's lock before the token's row (user first, everywhere; see ConfirmPasswordReset).
      const user = await repos.users.findByIdForUpdate(token.userId);
      if (!user || !(await repos.oneTimeTokens.consume(token.id, now))) throw Errors.invalidLink();
      const previous = token.purpose === 'email_change' ? user.confirmEmailChange(now) : null;
      if (previous === null) user.verifyEmail(now);
      // The login address moved: a reset or verification link mailed to the old one must not open the account.
      else await repos.oneTimeTokens.consumeAllOfUser(user.id, now);
      await repos.users.save(user);
      if (previous !== null) await repos.emails.enqueue(emailChangedEmail(previous, user.email));
      await repos.audit.record(selfAuditEntry('email.verified', input.client ?? UNKNOWN_CLIENT, user.id, now));
      return user;
    });
  }
}
