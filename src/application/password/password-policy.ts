import { Errors } from '../shared/errors';
import { inject, injectable } from 'inversify';
import { Email } from '@domain/user/email';
import { PASSWORD_MAX_LENGTH, Password } from '@domain/user/password';
import type { PasswordStrengthEstimator } from '../ports/password-strength';
import { PORTS } from '../ports/tokens';

/** zxcvbn 3: "safely unguessable", about 10^8 guesses, against an offline attack on a slow hash. */
export const MIN_STRENGTH_SCORE = 3;
/** Shorter local parts ("jo@...") are too common as substrings to forbid. */
const MIN_LOCAL_PART = 3;

/** Who the password is for: its parts must not appear in it, and they count as known words for the estimate. */
export interface PasswordOwner {
  email: string;
  username?: string | null;
  firstName?: string | null;
  lastName?: string | null;
}

/**
 * CONTRACT §5: length between PASSWORD_MIN_LENGTH and 128, not common, not guessable (strength estimate), not
 * containing the email's local part. No composition rules. Every reason is reported at once, as
 * WEAK_PASSWORD `details.password`, so the user fixes everything in one go.
 */
@injectable()
export class PasswordPolicy {
  constructor(
    @inject(PORTS.PasswordStrengthEstimator) private readonly estimator: PasswordStrengthEstimator,
    @inject(PORTS.PasswordMinLength) private readonly minLength: number,
  ) {}

  /**
   * Judges the NFKC form (Password.normalize), the one that is hashed: the maximum length and the estimate are of it;
   * the minimum is of the fewer of the typed and the normalised characters (Password.lengthForMinimum).
   */
  async check(raw: string, owner: PasswordOwner): Promise<Password> {
    const reasons = await this.reasons(raw, owner);
    if (reasons.length > 0) throw Errors.weakPassword(reasons);
    return Password.create(raw, this.minLength);
  }

  private async reasons(typed: string, owner: PasswordOwner): Promise<string[]> {
    const raw = Password.normalize(typed);
    // Too long is refused before any scoring: the estimate is the expensive part.
    if ([...raw].length > PASSWORD_MAX_LENGTH) return [`must be at most ${PASSWORD_MAX_LENGTH} characters`];
    const reasons: string[] = [];
    if (Password.lengthForMinimum(typed) < this.minLength) reasons.push(`must be at least ${this.minLength} characters`);
    const folded = Email.canonicalize(raw);
    const local = localPart(owner.email);
    if (local.length >= MIN_LOCAL_PART && folded.includes(local)) reasons.push('must not contain the email address');
    const inputs = [owner.email, local, owner.username, owner.firstName, owner.lastName].filter(
      (value): value is string => typeof value === 'string' && value.length > 0,
    );
    const estimate = await this.estimator.estimate(raw, inputs);
    if (estimate.common) reasons.push('is too common');
    else if (estimate.score < MIN_STRENGTH_SCORE) reasons.push('is too easy to guess');
    return reasons;
  }
}

function localPart(email: string): string {
  const canonical = Email.canonicalize(email);
  const at = canonical.lastIndexOf('@');
  return at > 0 ? canonical.slice(0, at) : canonical;
}
