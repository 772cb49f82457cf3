import type { Server } from 'node:http';
import type { Container } from 'inversify';
import type Koa from 'koa';
import type { Logger } from 'pino';
import { createLogger } from '@infrastructure/logging/pino-logger';
import { createHttpApp } from '@interface/http/app';
import type { HealthChecks } from '@interface/http/http-deps';
import { createContainer, resolve } from './container';
import type { AppConfig } from './env';
import { startInfrastructure, type Infrastructure, type InfrastructureOverrides } from './infrastructure';
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
  const infra = await startInfrastructure(config, logger, options);
  const container = createContainer(config, logger, infra);
  const http = createHttpApp({
    config: {
      bodyLimitBytes: config.bodyLimitBytes,
      corsOrigins: config.corsOrigins,
      trustedProxies: config.trustedProxies,
      requireEmailVerification: config.requireEmailVerification,
    },
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
    },
    jwks: async () => infra.keys.jwks(),
    health: () => healthChecks(infra),
  });
  let server: Server | null = null;
  return {
    config,
    logger,
    container,
    infra,
    http,
    listen: () =>
      new Promise((resolveListen, reject) => {
        const s = http.listen(config.port, config.host, () => {
          const address = s.address();
          resolveListen(typeof address === 'object' && address ? address.port : config.port);
        });
        s.once('error', reject);
        server = s;
      }),
    close: async (graceMs = 10_000) => {
      if (server) await stopServer(server, graceMs);
      await infra.close();
    },
  };
}

async function healthChecks(infra: Infrastructure): Promise<HealthChecks> {
  const database = await withTimeout(infra.dataSource.query('SELECT 1'), 2000).then(
    () => 'up' as const,
    () => 'down' as const,
  );
  // Cache and broker are in-process until their adapters exist: up whenever the process is.
  return { database, cache: 'up', broker: 'up' };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function stopServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolveClose) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolveClose();
    });
    server.closeIdleConnections();
  });
}
