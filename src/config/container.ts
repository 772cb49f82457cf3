import { Container, type ServiceIdentifier } from 'inversify';
import type { Logger } from 'pino';
import type { AuthSettings } from '@application/shared/auth-settings';
import { HTTP_TOKENS } from '@interface/http/http-deps';
import type { AppConfig } from './env';
import type { Infrastructure } from './infrastructure';
import { rememberingHealthProbe, type HealthProbeOptions } from './health';
import { FEATURE_MODULES } from './modules';
import { TOKENS, type Token } from './tokens';
import { rateLimitPolicies } from './abuse-config';

/** CONTRACT §4: the token between the password step and the second factor lives 5 minutes. */
const MFA_CHALLENGE_TTL_SECONDS = 300;

export function authSettings(config: AppConfig): AuthSettings {
  return {
    requireEmailVerification: config.requireEmailVerification,
    passwordMinLength: config.passwordMinLength,
    refreshTokenTtlSeconds: config.session.refreshTokenTtlSeconds,
    sessionMaxLifetimeSeconds: config.session.maxLifetimeSeconds,
    refreshGraceSeconds: config.session.refreshGraceSeconds,
    verificationTokenTtlSeconds: config.verificationTokenTtlSeconds,
    publicUrl: config.publicUrl,
    // The register route's per-address quota (its `-id` policy, so the same counter): a sign-up and an email
    // change to one address send it the same mails, so together they may not exceed it (security review, mail bomb).
    claimsPerAddress: rateLimitPolicies(config.abuse.rateLimits).register.identifier,
    maxSessionsPerUser: config.session.maxPerUser,
  };
}

/**
 * The one composition root: adapters bound to the port tokens, then the feature modules (use cases bound to
 * themselves, their constructor parameters naming ports by token). Adding a use case touches its module only.
 */
export function createContainer(config: AppConfig, logger: Logger, infra: Infrastructure, health: Pick<HealthProbeOptions, 'schemaRecheckMs'> = {}): Container {
  const c = new Container({ defaultScope: 'Singleton' });
  const constant = <T>(id: Token<T>, value: T) => c.bind<T>(id).toConstantValue(value);
  constant(TOKENS.Config, config);
  constant(TOKENS.Logger, logger);
  constant(TOKENS.AuthSettings, authSettings(config));
  constant(TOKENS.Clock, infra.clock);
  constant(TOKENS.DeferredWork, infra.deferred);
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
  constant(TOKENS.AuthStateCache, infra.cache.local);
  constant(TOKENS.Totp, infra.totp);
  constant(TOKENS.OtpReplayGuard, infra.cache.otpReplay);
  constant(TOKENS.RecoveryCodes, infra.recoveryCodes);
  constant(TOKENS.MfaLockoutStore, infra.cache.mfaLockout);
  constant(TOKENS.MfaSettings, {
    issuer: config.mfa.issuer,
    challengeTtlSeconds: MFA_CHALLENGE_TTL_SECONDS,
    verifyPerAccount: rateLimitPolicies(config.abuse.rateLimits).mfa.identifier,
  });
  constant(TOKENS.PasswordStrengthEstimator, infra.passwordStrength);
  constant(TOKENS.ServiceClientRepository, infra.repositories.clients);
  constant(TOKENS.ClientSecrets, infra.clientSecrets);
  constant(TOKENS.UserDirectory, infra.userDirectory);
  constant(TOKENS.AuditTrail, infra.auditTrail);
  constant(TOKENS.PasswordMinLength, config.passwordMinLength);
  constant(TOKENS.CurrentPasswordMaxFailures, config.abuse.currentPasswordMaxFailures);
  // What the HTTP adapter reads besides use cases: the published keys and the readiness checks.
  constant(HTTP_TOKENS.Jwks, { jwks: () => infra.keys.jwks() });
  constant(HTTP_TOKENS.Health, rememberingHealthProbe(infra, { ...health, logger }));
  constant(HTTP_TOKENS.AuthorizationServer, authorizationServer(config));
  // Use cases and their helpers: each feature module binds its classes to themselves.
  c.load(...FEATURE_MODULES);
  return c;
}

/** RFC 8414: the endpoints live under the issuer when it is a URL (as the RFC expects), else under APP_PUBLIC_URL. */
function authorizationServer(config: AppConfig): { issuer: string; baseUrl: string } {
  const issuer = config.jwt.issuer;
  const base = /^https?:\/\//i.test(issuer) ? issuer : config.publicUrl;
  return { issuer, baseUrl: base.replace(/\/+$/, '') };
}

export function resolve<T>(container: Container, id: ServiceIdentifier<T>): T {
  return container.get<T>(id);
}
