import { inject, injectable } from 'inversify';
import type { User } from '@domain/user/user';
import { verificationEmail } from '../shared/email-templates';
import type { AuthSettings } from '../shared/auth-settings';
import type { IdGenerator } from '../ports/id-generator';
import type { EmailMessage } from '../ports/mailer';
import type { OpaqueTokens } from '../ports/opaque-tokens';
import type { Repositories } from '../ports/unit-of-work';
import { issueOneTimeToken } from '../shared/one-time-token-issuer';
import { PORTS } from '../ports/tokens';

/** Issues email-verification tokens (only the hash is stored) and the email that carries them. */
@injectable()
export class VerificationTokens {
  constructor(
    @inject(PORTS.OpaqueTokens) private readonly opaque: OpaqueTokens,
    @inject(PORTS.IdGenerator) private readonly ids: IdGenerator,
    @inject(PORTS.AuthSettings) private readonly settings: AuthSettings,
  ) {}

  /** Replaces any earlier verification token of the user and returns the email to queue in the same transaction. */
  async issue(repos: Repositories, user: User, now: Date): Promise<EmailMessage> {
    const ttlSeconds = this.settings.verificationTokenTtlSeconds;
    const token = await issueOneTimeToken(repos, this.opaque, this.ids, { userId: user.id, purpose: 'email_verification', ttlSeconds, now });
    return verificationEmail(user.email, this.settings.publicUrl, token, ttlSeconds);
  }
}
