import { Email } from '@domain/user/email';
import type { Clock } from '../ports/clock';
import type { UnitOfWork } from '../ports/unit-of-work';
import type { VerificationTokens } from './verification-tokens';

/** Answers the same whether the account exists, is verified or not: the caller learns nothing. */
export class ResendVerification {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly verification: VerificationTokens,
    private readonly clock: Clock,
  ) {}

  async execute(input: { email: string }): Promise<void> {
    const email = Email.create(input.email);
    const now = this.clock.now();
    await this.uow.run(async (repos) => {
      const user = await repos.users.findByEmail(email.value);
      if (!user || user.emailVerified || user.status === 'suspended') return;
      await repos.emails.enqueue(await this.verification.issue(repos, user, now));
    });
  }
}
