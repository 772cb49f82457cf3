import { DomainError, type ErrorDetails } from './domain-error';

/**
 * The errors the domain itself throws, one factory per situation, one message each. The application's catalogue
 * (application/shared/errors.ts) includes these: callers outside the domain use that one.
 */
export const DomainErrors = {
  /** One field is malformed; `message` says how (shown to the client in `details`). */
  validation: (field: string, message: string): DomainError => invalidRequest({ [field]: [message] }),
  /** Several fields at once (request DTOs). */
  invalidRequest,
  /** `reasons` go to `details.password`, every reason at once. */
  weakPassword: (reasons: string[]): DomainError =>
    new DomainError('WEAK_PASSWORD', 'The password does not meet the policy.', { password: reasons }),
  accountDisabled: (): DomainError => new DomainError('ACCOUNT_DISABLED', 'This account has been disabled.'),
  emailNotVerified: (): DomainError => new DomainError('EMAIL_NOT_VERIFIED', 'The email address has not been verified yet.'),
  /** An email link (verification, reset, email change) that cannot be used: unknown, used, expired or void. */
  invalidLink: (): DomainError => new DomainError('INVALID_OR_EXPIRED_TOKEN', 'The link is invalid or has expired.'),
  /** TOTP set-up (or a second confirmation) while a confirmed second factor exists: disable it first. */
  mfaAlreadyEnabled: (): DomainError => new DomainError('CONFLICT', 'Two-factor authentication is already enabled.'),
  /** A change that needs an enabled second factor (new recovery codes) on an account without one. */
  mfaNotEnabled: (): DomainError => new DomainError('CONFLICT', 'Two-factor authentication is not enabled.'),
  /** Enabling TOTP without a set-up to confirm. */
  noPendingTotpSetup: (): DomainError => new DomainError('CONFLICT', 'There is no two-factor set-up to confirm; start the set-up first.'),
} as const;

function invalidRequest(details: ErrorDetails): DomainError {
  return new DomainError('VALIDATION_ERROR', 'The request is invalid.', details);
}
