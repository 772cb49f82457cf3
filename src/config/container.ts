import { Container } from 'inversify';
import type { Logger } from 'pino';
import { LoginWithPassword } from '@application/session/login-with-password';
import { Logout } from '@application/session/logout';
import { RefreshSession } from '@application/session/refresh-session';
import { ProcessAccountRequest } from '@application/account/process-account-request';
import { RegisterUser } from '@application/account/register-user';
import { ResendVerification } from '@application/account/resend-verification';
import { SessionIssuer } from '@application/session/session-issuer';
import { ValidateAccessToken } from '@application/session/validate-access-token';
import { VerificationTokens } from '@application/account/verification-tokens';
import { VerifyEmail } from '@application/account/verify-email';
import type { AuthSettings } from '@application/shared/auth-settings';
import { PasswordPolicy } from '@application/password/password-policy';
import { GetCurrentUser } from '@application/account/get-current-user';
import { bindAccountUseCases } from './account-bindings';
import type { AppConfig } from './env';
import type { Infrastructure } from './infrastructure';
import { TOKENS, type Token } from './tokens';

export function authSettings(config: AppConfig): AuthSettings {
  return {
    requireEmailVerification: config.requireEmailVerification,
    passwordMinLength: config.passwordMinLength,
    refreshTokenTtlSeconds: config.session.refreshTokenTtlSeconds,
    sessionMaxLifetimeSeconds: config.session.maxLifetimeSeconds,
    refreshGraceSeconds: config.session.refreshGraceSeconds,
    verificationTokenTtlSeconds: config.verificationTokenTtlSeconds,
    publicUrl: config.publicUrl,
  };
}

/** The one composition root: adapters in, use cases out. Constructor injection, checked by the compiler. */
export function createContainer(config: AppConfig, logger: Logger, infra: Infrastructure): Container {
  const c = new Container({ defaultScope: 'Singleton' });
  const constant = <T>(id: Token<T>, value: T) => c.bind<T>(id).toConstantValue(value);
  constant(TOKENS.Config, config);
  constant(TOKENS.Logger, logger);
  constant(TOKENS.AuthSettings, authSettings(config));
  constant(TOKENS.Clock, infra.clock);
  constant(TOKENS.IdGenerator, infra.ids);
  constant(TOKENS.PasswordHasher, infra.hasher);
  constant(TOKENS.OpaqueTokens, infra.opaqueTokens);
  constant(TOKENS.SecretBox, infra.secretBox);
  constant(TOKENS.TokenSigner, infra.tokens);
  constant(TOKENS.TokenVerifier, infra.tokens);
  constant(TOKENS.Mailer, infra.mailer);
  constant(TOKENS.UnitOfWork, infra.unitOfWork);
  constant(TOKENS.UserRepository, infra.repositories.users);
  constant(TOKENS.SessionRepository, infra.repositories.sessions);
  constant(TOKENS.RateLimiter, infra.cache.rateLimiter);
  constant(TOKENS.LoginLockout, infra.cache.lockout);
  constant(TOKENS.SecretAttempts, infra.cache.secretAttempts);
  constant(TOKENS.SessionStateCache, infra.cache.sessions);
  constant(TOKENS.PasswordStrengthEstimator, infra.passwordStrength);
  constant(TOKENS.PasswordPolicy, new PasswordPolicy(infra.passwordStrength, config.passwordMinLength));

  const T = TOKENS;
  c.bind(T.SessionIssuer).toResolvedValue(
    (...a: ConstructorParameters<typeof SessionIssuer>) => new SessionIssuer(...a),
    [T.OpaqueTokens, T.SecretBox, T.TokenSigner, T.IdGenerator, T.AuthSettings],
  );
  c.bind(T.VerificationTokens).toResolvedValue(
    (...a: ConstructorParameters<typeof VerificationTokens>) => new VerificationTokens(...a),
    [T.OpaqueTokens, T.IdGenerator, T.AuthSettings],
  );
  c.bind(T.RegisterUser).toResolvedValue(
    (...a: ConstructorParameters<typeof RegisterUser>) => new RegisterUser(...a),
    [T.UnitOfWork, T.PasswordHasher, T.SessionIssuer, T.IdGenerator, T.Clock, T.AuthSettings, T.PasswordPolicy],
  );
  c.bind(T.VerifyEmail).toResolvedValue(
    (...a: ConstructorParameters<typeof VerifyEmail>) => new VerifyEmail(...a),
    [T.UnitOfWork, T.OpaqueTokens, T.Clock],
  );
  c.bind(T.ResendVerification).toResolvedValue(
    (...a: ConstructorParameters<typeof ResendVerification>) => new ResendVerification(...a),
    [T.UnitOfWork],
  );
  c.bind(T.ProcessAccountRequest).toResolvedValue(
    (...a: ConstructorParameters<typeof ProcessAccountRequest>) => new ProcessAccountRequest(...a),
    [T.UnitOfWork, T.VerificationTokens, T.OpaqueTokens, T.IdGenerator, T.Clock, T.AuthSettings],
  );
  c.bind(T.LoginWithPassword).toResolvedValue(
    (...a: ConstructorParameters<typeof LoginWithPassword>) => new LoginWithPassword(...a),
    [T.UserRepository, T.UnitOfWork, T.PasswordHasher, T.SessionIssuer, T.Clock, T.AuthSettings, T.LoginLockout],
  );
  c.bind(T.RefreshSession).toResolvedValue(
    (...a: ConstructorParameters<typeof RefreshSession>) => new RefreshSession(...a),
    [T.UnitOfWork, T.OpaqueTokens, T.SessionIssuer, T.Clock, T.AuthSettings],
  );
  c.bind(T.Logout).toResolvedValue((...a: ConstructorParameters<typeof Logout>) => new Logout(...a), [T.UnitOfWork, T.Clock]);
  c.bind(T.ValidateAccessToken).toResolvedValue(
    (...a: ConstructorParameters<typeof ValidateAccessToken>) => new ValidateAccessToken(...a),
    [T.TokenVerifier, T.SessionRepository, T.UserRepository, T.Clock, T.AuthSettings, T.SessionStateCache],
  );
  c.bind(T.GetCurrentUser).toResolvedValue(
    (...a: ConstructorParameters<typeof GetCurrentUser>) => new GetCurrentUser(...a),
    [T.UserRepository],
  );
  bindAccountUseCases(c);
  return c;
}

export function resolve<T>(container: Container, id: Token<T>): T {
  return container.get<T>(id);
}
