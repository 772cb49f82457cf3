import { Email } from '@domain/user/email';
import type { AuthSettings } from '../auth-settings';
import { passwordResetEmail } from '../emails/templates';
import type { Clock } from '../ports/clock';
import type { IdGenerator } from '../ports/id-generator';
import type { OpaqueTokens } from '../ports/opaque-tokens';
import type { UnitOfWork } from '../ports/unit-of-work';
import { selfAuditEntry } from './audit-entry';
import { issueOneTimeToken } from './one-time-token-issuer';
import type { ClientContext } from './client-context';

/** One hour (CONTRACT §4). */
export const RESET_TOKEN_TTL_SECONDS = 3600;

/**
 * Answers the same for unknown, unverified and verified addresses: the caller learns nothing. Every path
 * writes one transaction (the audit entry), and the email is only queued, so no path waits for SMTP.
 * A new request voids the user's older reset links.
 */
export class RequestPasswordReset {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly opaque: OpaqueTokens,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    private readonly settings: AuthSettings,
  ) {}

  async execute(input: { email: string; client: ClientContext }): Promise<void> {
    const email = Email.create(input.email);
    const now = this.clock.now();
    await this.uow.run(async (repos) => {
      const found = await repos.users.findByEmail(email.value);
      const user = found && (await repos.users.findByIdForUpdate(found.id));
      if (!user || user.status === 'suspended') {
        const reason = user ? 'account_disabled' : 'unknown_account';
        await repos.audit.record(selfAuditEntry('password.reset_requested', input.client, user?.id ?? null, now, reason));
        return;
      }
      const token = await issueOneTimeToken(repos, this.opaque, this.ids, {
        userId: user.id,
        purpose: 'password_reset',
        ttlSeconds: RESET_TOKEN_TTL_SECONDS,
        now,
      });
      user.requestPasswordReset(now);
      await repos.users.save(user);
      await repos.emails.enqueue(passwordResetEmail(user.email, this.settings.publicUrl, token, RESET_TOKEN_TTL_SECONDS / 60));
      await repos.audit.record(selfAuditEntry('password.reset_requested', input.client, user.id, now));
    });
  }
}
