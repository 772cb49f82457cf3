// Decorators record their metadata through the Reflect API: loaded here, before any class that injects a port.
import 'reflect-metadata';
import type { ServiceIdentifier } from 'inversify';
import type { SessionRepository } from '@domain/session/session.repository';
import type { UserRepository } from '@domain/user/user.repository';
import type { ServiceClientRepository } from '@domain/client/service-client.repository';
import type { AuthSettings } from '../shared/auth-settings';
import type { MfaSettings } from '../shared/mfa-settings';
import type { TokenSigner, TokenVerifier } from './access-tokens';
import type { ClientSecrets } from './client-secrets';
import type { Clock } from './clock';
import type { DeferredWork } from './deferred-work';
import type { IdGenerator } from './id-generator';
import type { LoginLockout } from './login-lockout';
import type { Mailer } from './mailer';
import type { OpaqueTokens } from './opaque-tokens';
import type { OtpReplayGuard } from './otp-replay-guard';
import type { PasswordHasher } from './password-hasher';
import type { PasswordStrengthEstimator } from './password-strength';
import type { RateLimiter } from './rate-limiter';
import type { RecoveryCodes } from './recovery-codes';
import type { SecretAttempts } from './secret-attempts';
import type { SecretBox } from './secret-box';
import type { SessionStateCache } from './session-state-cache';
import type { AuthStateCache } from './auth-state-cache';
import type { Totp } from './totp';
import type { UnitOfWork } from './unit-of-work';
import type { UserDirectory } from './user-directory';
import type { AuditTrail } from './audit-trail';

/** A symbol that remembers the type bound to it, so that `get`/`@inject` are checked by the compiler. */
export type Token<T> = ServiceIdentifier<T> & { readonly __type?: T };

export function token<T>(name: string): Token<T> {
  return Symbol.for(`auth-service.${name}`) as Token<T>;
}

/**
 * The ports and settings the use cases are constructed with (DESIGN 6): typed symbols, because an interface
 * has no run-time identity. Use cases and helper classes are their own identifiers (bound to themselves in
 * their feature's module), so they have no token. The composition root binds an adapter to each of these.
 */
export const PORTS = {
  AuthSettings: token<AuthSettings>('AuthSettings'),
  /** PASSWORD_MIN_LENGTH, for the password policy. */
  PasswordMinLength: token<number>('PasswordMinLength'),
  /** Wrong current passwords tolerated per account before the current-password routes lock (CURRENT_PASSWORD_MAX_FAILURES). */
  CurrentPasswordMaxFailures: token<number>('CurrentPasswordMaxFailures'),
  Clock: token<Clock>('Clock'),
  /** Work that follows an answer (a failed login's bookkeeping): started after the response, drained at close. */
  DeferredWork: token<DeferredWork>('DeferredWork'),
  IdGenerator: token<IdGenerator>('IdGenerator'),
  PasswordHasher: token<PasswordHasher>('PasswordHasher'),
  OpaqueTokens: token<OpaqueTokens>('OpaqueTokens'),
  SecretBox: token<SecretBox>('SecretBox'),
  TokenSigner: token<TokenSigner>('TokenSigner'),
  TokenVerifier: token<TokenVerifier>('TokenVerifier'),
  Mailer: token<Mailer>('Mailer'),
  UnitOfWork: token<UnitOfWork>('UnitOfWork'),
  UserRepository: token<UserRepository>('UserRepository'),
  SessionRepository: token<SessionRepository>('SessionRepository'),
  RateLimiter: token<RateLimiter>('RateLimiter'),
  LoginLockout: token<LoginLockout>('LoginLockout'),
  /** The same rules for wrong second factors, per account id, in a key space of its own (issue 10). */
  MfaLockoutStore: token<LoginLockout>('MfaLockoutStore'),
  SecretAttempts: token<SecretAttempts>('SecretAttempts'),
  SessionStateCache: token<SessionStateCache>('SessionStateCache'),
  AuthStateCache: token<AuthStateCache>('AuthStateCache'),
  PasswordStrengthEstimator: token<PasswordStrengthEstimator>('PasswordStrengthEstimator'),
  /** RFC 6238 codes, secrets, otpauth URIs and QR codes (issue 10). */
  Totp: token<Totp>('Totp'),
  /** Used TOTP steps per user, shared by every instance (issue 10). */
  OtpReplayGuard: token<OtpReplayGuard>('OtpReplayGuard'),
  /** MFA recovery codes: generated, and hashed with a key (issue 10). */
  RecoveryCodes: token<RecoveryCodes>('RecoveryCodes'),
  MfaSettings: token<MfaSettings>('MfaSettings'),
  /** Service clients of the client-credentials grant (issue 11). */
  ServiceClientRepository: token<ServiceClientRepository>('ServiceClientRepository'),
  /** Generates service-client secrets and checks them against their keyed digest (issue 11). */
  ClientSecrets: token<ClientSecrets>('ClientSecrets'),
  /** Admin API: listing, search and statistics over all accounts (issue 12). */
  UserDirectory: token<UserDirectory>('UserDirectory'),
  /** Admin API and the user's own activity: the audit trail, read back (issue 12). */
  AuditTrail: token<AuditTrail>('AuditTrail'),
} as const;
