import { inject, injectable } from 'inversify';
import { Email } from '@domain/user/email';
import type { UnitOfWork } from '../ports/unit-of-work';
import type { ClientContext } from '../shared/client-context';
import { PORTS } from '../ports/tokens';

/** One hour (CONTRACT §4). */
export const RESET_TOKEN_TTL_SECONDS = 3600;

/**
 * Answers the same, in the same time, for unknown, unverified and verified addresses: it only records the
 * request (one INSERT, identical for every address). ProcessAccountRequest looks the account up afterwards,
 * mints the link (voiding older ones), queues the email and writes the audit entry.
 */
@injectable()
export class RequestPasswordReset {
  constructor(@inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork) {}

  async execute(input: { email: string; client: ClientContext }): Promise<void> {
    const email = Email.create(input.email);
    await this.uow.run((repos) => repos.accountRequests.add({ kind: 'password_reset', email: email.value }, input.client));
  }
}
