import { securityNoticeEmail, type SecurityNotice } from '../shared/security-notices';
import type { AuthSettings } from '../shared/auth-settings';
import type { Repositories } from '../ports/unit-of-work';

/**
 * Tells the owner of an account that something security-relevant happened to it (a replayed refresh token, a
 * lockout). Runs inside the caller's unit of work: the email is queued (durable email outbox) in the same
 * transaction as the subscriber's de-duplication record, so it is sent once, or again only if that rolls back.
 */
export class SendSecurityNotice {
  constructor(private readonly settings: Pick<AuthSettings, 'publicUrl'>) {}

  /** `false` when the account no longer exists (nothing to tell). */
  async execute(repos: Repositories, input: { userId: string; notice: SecurityNotice }): Promise<boolean> {
    const user = await repos.users.findById(input.userId);
    if (!user) return false;
    await repos.emails.enqueue(securityNoticeEmail(user.email, input.notice, this.settings.publicUrl));
    return true;
  }
}
