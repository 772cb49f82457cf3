import type { User } from '@domain/user/user';
import { verificationEmail } from '../emails/templates';
import type { AuthSettings } from '../auth-settings';
import type { IdGenerator } from '../ports/id-generator';
import type { EmailMessage } from '../ports/mailer';
import type { OpaqueTokens } from '../ports/opaque-tokens';
import type { Repositories } from '../ports/unit-of-work';

/** 256 bits: above the 128 the contract asks of one-time tokens. */
const VERIFICATION_TOKEN_BYTES = 32;

/** Issues email-verification tokens (only the hash is stored) and the email that carries them. */
export class VerificationTokens {
  constructor(
    private readonly opaque: OpaqueTokens,
    private readonly ids: IdGenerator,
    private readonly settings: AuthSettings,
  ) {}

  /** Replaces any earlier verification token of the user and returns the email to queue in the same transaction. */
  async issue(repos: Repositories, user: User, now: Date): Promise<EmailMessage> {
    const { token, hash } = this.opaque.create(VERIFICATION_TOKEN_BYTES);
    await repos.oneTimeTokens.consumeAllFor(user.id, 'email_verification', now);
    await repos.oneTimeTokens.add({
      id: this.ids.newId(),
      userId: user.id,
      purpose: 'email_verification',
      tokenHash: hash,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.settings.verificationTokenTtlSeconds * 1000),
      consumedAt: null,
    });
    const hours = Math.round(this.settings.verificationTokenTtlSeconds / 3600);
    return verificationEmail(user.email, this.settings.publicUrl, token, hours);
  }
}
