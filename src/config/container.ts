import { Container, type ServiceIdentifier } from 'inversify';
import type { Logger } from 'pino';
import type { AuthSettings } from '@application/shared/auth-settings';
import { HTTP_TOKENS } from '@interface/http/http-deps';
import type { AppConfig } from './env';
import type { Infrastructure } from './infrastructure';
import { healthChecks } from './health';
import { FEATURE_MODULES } from './modules';
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

/**
 * The one composition root: adapters bound to the port tokens, then the feature modules (use cases bound to
 * themselves, their constructor parameters naming ports by token). Adding a use case touches its module only.
 */
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
  constant(TOKENS.Totp, infra.totp);
  constant(TOKENS.OtpReplayGuard, infra.cache.otpReplay);
  constant(TOKENS.PasswordStrengthEstimator, infra.passwordStrength);
  constant(TOKENS.UserDirectory, infra.userDirectory);
  constant(TOKENS.AuditTrail, infra.auditTrail);
  constant(TOKENS.PasswordMinLength, config.passwordMinLength);
  constant(TOKENS.CurrentPasswordMaxFailures, config.abuse.currentPasswordMaxFailures);
  // What the HTTP adapter reads besides use cases: the published keys and the readiness checks.
  constant(HTTP_TOKENS.Jwks, { jwks: async () => infra.keys.jwks() });
  constant(HTTP_TOKENS.Health, { check: () => healthChecks(infra) });
  // Use cases and their helpers: each feature module binds its classes to themselves.
  c.load(...FEATURE_MODULES);
  return c;
}

export function resolve<T>(container: Container, id: ServiceIdentifier<T>): T {
  return container.get<T>(id);
}
