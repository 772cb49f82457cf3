export type OneTimeTokenPurpose = 'email_verification' | 'password_reset' | 'mfa_pending' | 'email_change';

/** A single-use, purpose-bound secret sent out of band (email link, MFA step). Stored only as a hash. */
export interface OneTimeToken {
  readonly id: string;
  readonly userId: string;
  readonly purpose: OneTimeTokenPurpose;
  readonly tokenHash: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly consumedAt: Date | null;
}

export function isRedeemable(token: OneTimeToken, purpose: OneTimeTokenPurpose, now: Date): boolean {
  return token.purpose === purpose && token.consumedAt === null && now.getTime() < token.expiresAt.getTime();
}
