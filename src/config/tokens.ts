import type { ServiceIdentifier } from 'inversify';
import type { Logger as PinoLogger } from 'pino';
import type { LoginWithPassword } from '@application/session/login-with-password';
import type { Logout } from '@application/session/logout';
import type { RefreshSession } from '@application/session/refresh-session';
import type { ProcessAccountRequest } from '@application/account/process-account-request';
import type { RegisterUser } from '@application/account/register-user';
import type { ResendVerification } from '@application/account/resend-verification';
import type { SessionIssuer } from '@application/session/session-issuer';
import type { ValidateAccessToken } from '@application/session/validate-access-token';
import type { VerificationTokens } from '@application/account/verification-tokens';
import type { VerifyEmail } from '@application/account/verify-email';
import type { AuthSettings } from '@application/shared/auth-settings';
import type { TokenSigner, TokenVerifier } from '@application/ports/access-tokens';
import type { Clock } from '@application/ports/clock';
import type { LoginLockout } from '@application/ports/login-lockout';
import type { SecretAttempts } from '@application/ports/secret-attempts';
import type { CurrentPasswordGuard } from '@application/password/current-password';
import type { PasswordStrengthEstimator } from '@application/ports/password-strength';
import type { RateLimiter } from '@application/ports/rate-limiter';
import type { SessionStateCache } from '@application/ports/session-state-cache';
import type { PasswordPolicy } from '@application/password/password-policy';
import type { IdGenerator } from '@application/ports/id-generator';
import type { Mailer } from '@application/ports/mailer';
import type { OpaqueTokens } from '@application/ports/opaque-tokens';
import type { PasswordHasher } from '@application/ports/password-hasher';
import type { SecretBox } from '@application/ports/secret-box';
import type { UnitOfWork } from '@application/ports/unit-of-work';
import type { GetCurrentUser } from '@application/account/get-current-user';
import type { ChangePassword } from '@application/password/change-password';
import type { ConfirmPasswordReset } from '@application/password/confirm-password-reset';
import type { RequestPasswordReset } from '@application/password/request-password-reset';
import type { DeleteAccount } from '@application/account/delete-account';
import type { ListSessions } from '@application/session/list-sessions';
import type { RevokeSession } from '@application/session/revoke-session';
import type { UpdateCredentials } from '@application/account/update-credentials';
import type { UpdateProfile } from '@application/account/update-profile';
import type { SessionRepository } from '@domain/session/session.repository';
import type { UserRepository } from '@domain/user/user.repository';
import type { AppConfig } from './env';

/** A symbol that remembers the type bound to it, so that `resolve` is checked by the compiler. */
export type Token<T> = ServiceIdentifier<T> & { readonly __type?: T };

function token<T>(name: string): Token<T> {
  return Symbol.for(`auth-service.${name}`) as Token<T>;
}

/** Every DI identifier, typed, in one place. Only the composition root and main.ts resolve them. */
export const TOKENS = {
  Config: token<AppConfig>('Config'),
  Logger: token<PinoLogger>('Logger'),
  AuthSettings: token<AuthSettings>('AuthSettings'),
  Clock: token<Clock>('Clock'),
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
  SessionIssuer: token<SessionIssuer>('SessionIssuer'),
  VerificationTokens: token<VerificationTokens>('VerificationTokens'),
  RegisterUser: token<RegisterUser>('RegisterUser'),
  VerifyEmail: token<VerifyEmail>('VerifyEmail'),
  ResendVerification: token<ResendVerification>('ResendVerification'),
  ProcessAccountRequest: token<ProcessAccountRequest>('ProcessAccountRequest'),
  LoginWithPassword: token<LoginWithPassword>('LoginWithPassword'),
  RefreshSession: token<RefreshSession>('RefreshSession'),
  Logout: token<Logout>('Logout'),
  ValidateAccessToken: token<ValidateAccessToken>('ValidateAccessToken'),
  GetCurrentUser: token<GetCurrentUser>('GetCurrentUser'),
  RequestPasswordReset: token<RequestPasswordReset>('RequestPasswordReset'),
  ConfirmPasswordReset: token<ConfirmPasswordReset>('ConfirmPasswordReset'),
  ChangePassword: token<ChangePassword>('ChangePassword'),
  UpdateProfile: token<UpdateProfile>('UpdateProfile'),
  UpdateCredentials: token<UpdateCredentials>('UpdateCredentials'),
  DeleteAccount: token<DeleteAccount>('DeleteAccount'),
  ListSessions: token<ListSessions>('ListSessions'),
  RevokeSession: token<RevokeSession>('RevokeSession'),
  RateLimiter: token<RateLimiter>('RateLimiter'),
  LoginLockout: token<LoginLockout>('LoginLockout'),
  SecretAttempts: token<SecretAttempts>('SecretAttempts'),
  CurrentPasswordGuard: token<CurrentPasswordGuard>('CurrentPasswordGuard'),
  SessionStateCache: token<SessionStateCache>('SessionStateCache'),
  PasswordStrengthEstimator: token<PasswordStrengthEstimator>('PasswordStrengthEstimator'),
  PasswordPolicy: token<PasswordPolicy>('PasswordPolicy'),
} as const;
