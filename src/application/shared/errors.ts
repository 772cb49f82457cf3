import { DomainError } from '@domain/shared/domain-error';
import { DomainErrors } from '@domain/shared/errors';

/**
 * The one catalogue of errors (DESIGN 7): one factory per situation, one message each; the domain's own
 * (DomainErrors) included. Messages never say which check failed where that would help an attacker: every
 * unusable access token gets the same one, every failed login the same one.
 */
/** The errors of Errors.hashingBusy: see isLoadRefusal. */
const LOAD_REFUSALS = new WeakSet<DomainError>();

/**
 * A refusal the service chose because it is saturated (Errors.hashingBusy: the hashing or the strength queue full,
 * or its deadline passed): its designed answer under load, counted by its own metric, so the HTTP layer logs it at
 * info rather than as a failed request (an outside review, 2026-12-08: a login flood logged an error line per
 * refusal). Every other 503 (a dependency, a clock behind a cut-off, a change not yet everywhere) stays an error.
 */
export function isLoadRefusal(error: unknown): boolean {
  return error instanceof DomainError && LOAD_REFUSALS.has(error);
}

export const Errors = {
  ...DomainErrors,

  /** Bad signature, alg, kid, iss, aud, typ or claims, expired, revoked session, unusable account. */
  invalidToken: (): DomainError => new DomainError('INVALID_TOKEN', 'The access token is invalid or has been revoked.'),
  /** An authentic service token (client credentials) on a route for users. */
  serviceTokenRefused: (): DomainError => new DomainError('FORBIDDEN', 'A service token cannot be used for this request.'),
  forbidden: (): DomainError => new DomainError('FORBIDDEN', 'You are not allowed to do this.'),

  /** Login: unknown account or wrong password, alike. */
  invalidCredentials: (): DomainError => new DomainError('INVALID_CREDENTIALS', 'The email, username or password is incorrect.'),
  /** A signed-in user's re-authentication (sensitive changes) failed. */
  wrongCurrentPassword: (): DomainError => new DomainError('INVALID_CREDENTIALS', 'The current password is incorrect.'),
  invalidRefreshToken: (): DomainError =>
    new DomainError('INVALID_REFRESH_TOKEN', 'The refresh token is invalid, expired or revoked.'),
  /** Current-password checks of the user already in flight fill its places: nothing was checked or counted. */
  checksInFlight: (retryAfterSeconds: number): DomainError =>
    new DomainError('RATE_LIMITED', 'Too many checks of the current password at once. Try again shortly.', undefined, retryAfterSeconds),
  /**
   * Sign-in attempts (or second-factor codes) of one identifier already in flight fill its places: not a lock,
   * nothing was checked or counted. The same for existing and unknown identifiers.
   */
  attemptsInFlight: (retryAfterSeconds: number): DomainError =>
    new DomainError('RATE_LIMITED', 'Too many sign-in attempts at once. Try again shortly.', undefined, retryAfterSeconds),
  /** The same answer, headers included, for existing and unknown identifiers. */
  accountLocked: (retryAfterSeconds: number): DomainError =>
    new DomainError('ACCOUNT_LOCKED', 'Too many failed login attempts. Try again later.', undefined, Math.max(1, Math.ceil(retryAfterSeconds))),

  /**
   * The second login step failed: a wrong, replayed or stale code, an unknown backup code, or an unknown,
   * used or expired mfa_token. One answer for all, so that none of them can be told apart.
   */
  invalidSecondFactor: (): DomainError =>
    new DomainError('INVALID_CREDENTIALS', 'The verification code is incorrect, or the sign-in attempt has expired.'),
  /** A signed-in user's re-authentication by a code (disabling MFA) failed. */
  wrongMfaCode: (): DomainError => new DomainError('INVALID_CREDENTIALS', 'The verification code is incorrect.'),
  /** Enabling TOTP: the first code does not match the secret being set up. */
  setupCodeMismatch: (): DomainError =>
    new DomainError('VALIDATION_ERROR', 'The code does not match.', {
      code: ["The code does not match the secret being set up; check the device's clock and enter the current code."],
    }),
  /**
   * A quota a use case spends itself (the second login step's per account, RATE_LIMIT_MFA_ID; a sign-up's address,
   * RATE_LIMIT_REGISTER_ID): a rate limit answered as the HTTP layer's are (HttpErrors.rateLimited), not a lockout.
   */
  rateLimited: (retryAfterSeconds: number): DomainError =>
    new DomainError('RATE_LIMITED', 'Too many requests. Try again later.', undefined, Number.isFinite(retryAfterSeconds) ? Math.max(1, Math.ceil(retryAfterSeconds)) : 1),
  /** Too many second-step failures for the account: its MFA step is locked for a while. */
  mfaLocked: (retryAfterSeconds: number): DomainError =>
    new DomainError('ACCOUNT_LOCKED', 'Too many verification attempts. Try again later.', undefined, Math.max(1, Math.ceil(retryAfterSeconds))),

  emailAlreadyRegistered: (): DomainError =>
    new DomainError('EMAIL_ALREADY_REGISTERED', 'An account with this email already exists.'),
  usernameTaken: (): DomainError => new DomainError('USERNAME_TAKEN', 'This username is taken.'),
  userNotFound: (): DomainError => new DomainError('NOT_FOUND', 'The user does not exist.'),
  sessionNotFound: (): DomainError => new DomainError('NOT_FOUND', 'No such session.'),
  /** Unknown or already deleted service client (CLI delete-client, rotate-client-secret). */
  clientNotFound: (): DomainError => new DomainError('NOT_FOUND', 'No such client.'),
  /** CLI rotate-client-secret: another rotation replaced the secret after this one read it; this one changed nothing. */
  clientSecretReplacedMeanwhile: (): DomainError =>
    new DomainError('CONFLICT', 'Another rotation replaced the secret of this client at the same time; nothing was changed here: the secret that rotation printed is the valid one.'),
  /**
   * POST /oauth/token: a token issued now would not be honoured, this instance's clock not being past the second
   * of the client's token cut-off (set by a host whose clock is ahead of this one, or a clock that did not move
   * while waited on). No token was handed out; one asked for Retry-After seconds later will be.
   */
  clientTokensCutOffAhead: (retryAfterSeconds: number): DomainError =>
    new DomainError('SERVICE_UNAVAILABLE', "The client's tokens were just revoked and this server's clock has not yet passed that instant. Try again shortly.", undefined, Math.max(1, Math.ceil(retryAfterSeconds))),
  /**
   * POST /mfa/backup-codes from a session whose second factor is not recent (signed in with a code more than
   * MFA_STEP_UP_SECONDS ago, or never: the session that enabled MFA, once that is as old).
   */
  secondFactorNotRecent: (): DomainError =>
    new DomainError('FORBIDDEN', 'Sign in again with your second factor to do this: your sign-in with a code must be under 15 minutes old.', { session: ['second_factor_not_recent'] }),
  /**
   * POST /mfa/totp/setup and /mfa/totp/enable from a session that signed in more than SIGN_IN_STEP_UP_SECONDS ago (a
   * refresh does not move its start): turning MFA on takes a fresh sign-in.
   */
  signInNotRecent: (): DomainError =>
    new DomainError('FORBIDDEN', 'Sign in again to turn on two-factor authentication: your sign-in must be under 15 minutes old.', { session: ['sign_in_not_recent'] }),
  /** POST /mfa/backup-codes: another regeneration committed after this one read the account; this one changed nothing. */
  recoveryCodesReplacedMeanwhile: (): DomainError =>
    new DomainError('CONFLICT', 'Another request replaced the backup codes at the same time; nothing was changed here: the codes that request returned are the valid set.'),

  /**
   * CLI create-admin: the account's address was never proven, so it would be mailed a link to choose a password, and
   * APP_PUBLIC_URL is not set where the command runs (the link would point at the default, localhost). Nothing changed.
   */
  linkBaseUnknown: (): DomainError =>
    new DomainError(
      'CONFLICT',
      "The account's address was never verified, so it would be mailed a link to choose a password, and APP_PUBLIC_URL is not set here (the link would point at localhost). Nothing was changed: run the command with the service's APP_PUBLIC_URL.",
    ),
  /** Admin API: a change that would leave no active admin (CONTRACT §1 CONFLICT). */
  lastActiveAdmin: (): DomainError =>
    new DomainError('CONFLICT', 'This would leave no active admin: promote another admin first.', { user_id: ['last_active_admin'] }),
  /** Admin API: an admin suspending, demoting or deleting their own account (CONTRACT §1 CONFLICT). */
  adminSelfAction: (): DomainError =>
    new DomainError('CONFLICT', 'Admins cannot suspend, demote or delete their own account, or remove its second factor, through the admin API.', { user_id: ['self'] }),
  /** Admin API: the caller stopped being an active admin between the route's check and the change. */
  noLongerAdmin: (): DomainError => new DomainError('FORBIDDEN', 'You are no longer an active admin.'),
  /** Admin API: a reset link for a suspended account could not be redeemed. */
  userSuspended: (): DomainError => new DomainError('CONFLICT', 'The account is suspended: reinstate it first.', { status: ['suspended'] }),

  /**
   * Password hashing is saturated (the argon2 gate): this check waited its longest for a slot, or found the queue
   * full. Nothing was hashed or checked: no verdict on the password, counted toward no lockout. `details.service:
   * ["busy"]` tells it from an outage's 503 (since stop 65): a client's circuit breaker must not count a refusal the
   * service chose (the SDK opened its circuit on five of them and refused every other call for 10 s: a review).
   */
  hashingBusy: (retryAfterSeconds: number): DomainError => {
    const error = new DomainError('SERVICE_UNAVAILABLE', 'The service is busy. Try again shortly.', { service: ['busy'] }, retryAfterSeconds);
    LOAD_REFUSALS.add(error);
    return error;
  },

  /**
   * The change committed but could not reach every instance yet (see SessionCacheInvalidation). Retry-After as an
   * outage's (5 s): every 503 says when to come back (until 2026-12-07 this one alone did not: a review).
   */
  notYetEverywhere: (): DomainError =>
    new DomainError(
      'SERVICE_UNAVAILABLE',
      'The change was saved, but could not yet reach every instance of the service; it takes full effect within a minute.',
      undefined,
      5,
    ),
} as const;
