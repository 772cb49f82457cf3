import { inject, injectable } from 'inversify';
import { Email } from '@domain/user/email';
import type { UnitOfWork } from '../ports/unit-of-work';
import { UNKNOWN_CLIENT, type ClientContext } from '../shared/client-context';
import { PORTS } from '../ports/tokens';

/**
 * Answers the same, in the same time, whether the account exists, is verified or not: it only records the
 * request; ProcessAccountRequest sends a new link if the address has an account awaiting verification.
 */
@injectable()
export class ResendVerification {
  constructor(@inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork) {}

  async execute(input: { email: string; client?: ClientContext }): Promise<void> {
    const email = Email.create(input.email);
    await this.uow.run((repos) => repos.accountRequests.add({ kind: 'verification_resend', email: email.value }, input.client ?? UNKNOWN_CLIENT));
  }
}
