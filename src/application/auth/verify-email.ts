import { DomainError } from '@domain/shared/domain-error';
import { isRedeemable } from '@domain/token/one-time-token';
import type { User } from '@domain/user/user';
import type { Clock } from '../ports/clock';
import type { OpaqueTokens } from '../ports/opaque-tokens';
import type { UnitOfWork } from '../ports/unit-of-work';

export class VerifyEmail {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly opaque: OpaqueTokens,
    private readonly clock: Clock,
  ) {}

  async execute(input: { token: string }): Promise<User> {
    const hash = this.opaque.hash(input.token);
    const now = this.clock.now();
    return this.uow.run(async (repos) => {
      const token = await repos.oneTimeTokens.findByHash('email_verification', hash);
      if (!token || !isRedeemable(token, 'email_verification', now) || !(await repos.oneTimeTokens.consume(token.id, now))) {
        throw unusable();
      }
      const user = await repos.users.findById(token.userId);
      if (!user) throw unusable();
      user.verifyEmail(now);
      await repos.users.save(user);
      return user;
    });
  }
}

function unusable(): DomainError {
  return new DomainError('INVALID_OR_EXPIRED_TOKEN', 'The link is invalid or has expired.');
}
