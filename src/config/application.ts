import type { Container } from 'inversify';
import type Koa from 'koa';
import type { Logger } from 'pino';
import { createLogger } from '@infrastructure/logging/pino-logger';
import { createHttpApp } from '@interface/http/app';
import type { HealthChecks } from '@interface/http/http-deps';
import { rateLimitPolicies } from './abuse-config';
import { createContainer, resolve } from './container';
import type { AppConfig } from './env';
import { createMetrics } from './metrics';
import { startInfrastructure, type Infrastructure, type InfrastructureOverrides } from './infrastructure';
import { startSubscribers } from './subscribers';
import { TrackedHttpServer } from './http-server';
import { TOKENS } from './tokens';

export interface Application {
  config: AppConfig;
  logger: Logger;
  container: Container;
  infra: Infrastructure;
  http: Koa;
  /** Listens on config.port/host (0 = a free port); resolves with the bound port. */
  listen(): Promise<number>;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes pools and the database. */
  close(graceMs?: number): Promise<void>;
}

export interface ApplicationOptions extends InfrastructureOverrides {
  logger?: Logger;
}

export async function createApplication(config: AppConfig, options: ApplicationOptions = {}): Promise<Application> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics({ metricsToken: config.metricsToken, rateLimitGroups: Object.keys(config.abuse.rateLimits) });
  const infra = await startInfrastructure(config, logger, options, metrics.countAudit);
  metrics.watchBacklog(infra.dataSource);
  const container = createContainer(config, logger, infra);
  infra.accountRequests.handleWith(resolve(container, TOKENS.ProcessAccountRequest));
  infra.accountRequests.start();
  await startSubscribers(config, logger, infra);
  const http = createHttpApp({
    config: {
      bodyLimitBytes: config.bodyLimitBytes,
      corsOrigins: config.corsOrigins,
      trustedProxies: config.trustedProxies,
      requireEmailVerification: config.requireEmailVerification,
      rateLimits: rateLimitPolicies(config.abuse.rateLimits),
      rateLimitIpv6Prefix: config.abuse.ipv6Prefix,
    },
    rateLimiter: infra.cache.rateLimiter,
    metrics: metrics.http,
    logger,
    useCases: {
      registerUser: resolve(container, TOKENS.RegisterUser),
      verifyEmail: resolve(container, TOKENS.VerifyEmail),
      resendVerification: resolve(container, TOKENS.ResendVerification),
      login: resolve(container, TOKENS.LoginWithPassword),
      refreshSession: resolve(container, TOKENS.RefreshSession),
      logout: resolve(container, TOKENS.Logout),
      validateAccessToken: resolve(container, TOKENS.ValidateAccessToken),
      getCurrentUser: resolve(container, TOKENS.GetCurrentUser),
      requestPasswordReset: resolve(container, TOKENS.RequestPasswordReset),
      confirmPasswordReset: resolve(container, TOKENS.ConfirmPasswordReset),
      changePassword: resolve(container, TOKENS.ChangePassword),
      updateProfile: resolve(container, TOKENS.UpdateProfile),
      updateCredentials: resolve(container, TOKENS.UpdateCredentials),
      deleteAccount: resolve(container, TOKENS.DeleteAccount),
      listSessions: resolve(container, TOKENS.ListSessions),
      revokeSession: resolve(container, TOKENS.RevokeSession),
    },
    jwks: async () => infra.keys.jwks(),
    health: () => healthChecks(infra),
  });
  let server: TrackedHttpServer | null = null;
  return {
    config,
    logger,
    container,
    infra,
    http,
    listen: () => {
      server ??= new TrackedHttpServer(http.callback());
      return server.listen(config.port, config.host);
    },
    close: async (graceMs = 10_000) => {
      if (server) await server.stop(graceMs);
      await infra.close();
    },
  };
}

async function healthChecks(infra: Infrastructure): Promise<HealthChecks> {
  const [database, cache] = await Promise.all([
    withTimeout(infra.dataSource.query('SELECT 1'), 2000).then(
      () => 'up' as const,
      () => 'down' as const,
    ),
    // Redis answers PING (REDIS_URL); in embedded mode the cache is in-process and up with the process.
    withTimeout(infra.cache.status(), 2000).catch(() => 'down' as const),
  ]);
  return { database, cache, broker: infra.events.broker() };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
