import type { Container } from 'inversify';
import type Koa from 'koa';
import type { Logger } from 'pino';
import { ProcessAccountRequest } from '@application/account/process-account-request';
import { createLogger } from '@infrastructure/logging/pino-logger';
import { createHttpApp } from '@interface/http/app';
import { MetricsEndpoint } from '@interface/http/metrics/metrics-endpoint';
import { HTTP_TOKENS } from '@interface/http/http-deps';
import { OpenApiDocument } from '@interface/http/openapi/openapi-document';
import { ROUTES } from '@interface/http/routes';
import { rateLimitPolicies } from './abuse-config';
import { createContainer } from './container';
import type { AppConfig } from './env';
import { startupWarnings } from './startup-warnings';
import { createMetrics } from './metrics';
import { startInfrastructure, type Infrastructure, type InfrastructureOverrides } from './infrastructure';
import { startSubscribers } from './subscribers';
import { TrackedHttpServer } from './http-server';
import { refusedRequestReporter } from './refused-requests';

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

const API_INFO = {
  title: 'auth-service',
  version: '0.1.0',
  description: 'Register, verify, log in, refresh, log out; sessions, password and account lifecycle. See CONTRACT.md.',
};

export interface ApplicationOptions extends InfrastructureOverrides {
  logger?: Logger;
  /** A node:cluster worker of WORKERS>1: GET /metrics serves every worker's metrics, summed by the primary. */
  clusterWorker?: boolean;
  /** How often /health/ready re-reads a schema found behind this version (ms; default SCHEMA_RECHECK_MS, 5 s). */
  schemaRecheckMs?: number;
}

/**
 * How long a shutdown lets in-flight requests finish (ms): 10 s, or longer than a query's deadline and its 1-s
 * cancel, so that a request waiting on a stalled database still gets its 503 (an outside review, 2026-12-03: with
 * DATABASE_QUERY_TIMEOUT at 10 s, a login in flight at SIGTERM got no answer at all: its connection was closed at
 * 10 s, its 503 due at 11). The rest of the 30-s bound (SHUTDOWN_LIMIT_MS) is the pools'.
 */
export function requestGraceMs(config: Pick<AppConfig, 'databaseQueryTimeoutMs'>): number {
  return Math.max(10_000, config.databaseQueryTimeoutMs + 2_000);
}

/** A cluster worker stops listening once no connection came for this long (ms) ... */
const CLUSTER_QUIET_MS = 300;
/** ... or after this (ms): a client that keeps connecting does not hold the shutdown. */
const CLUSTER_QUIET_MAX_MS = 3_000;

export async function createApplication(config: AppConfig, options: ApplicationOptions = {}): Promise<Application> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics({
    metricsToken: config.metricsToken,
    rateLimitGroups: Object.keys(config.abuse.rateLimits),
    clusterWorker: options.clusterWorker,
  });
  const infra = await startInfrastructure(config, logger, options, metrics.countAudit);
  metrics.watchBacklog(infra.dataSource, infra.clock);
  metrics.watchHashing(infra.hashRefusals);
  metrics.watchStrengthEstimates(infra.strengthRefusals);
  const container = createContainer(config, logger, infra, { schemaRecheckMs: options.schemaRecheckMs });
  container.bind(MetricsEndpoint).toConstantValue(metrics.http.endpoint);
  // Generated once at start from the same table that mounts the routes.
  container.bind(OpenApiDocument).toConstantValue(new OpenApiDocument(ROUTES, API_INFO));
  // As startInfrastructure decided it, not read again: a `background` that turned false meanwhile (main.ts's, on a
  // SIGTERM during the warm-ups) left a relay running with no subscriber, and the events it took were lost.
  if (infra.background) {
    infra.accountRequests.handleWith(container.get(ProcessAccountRequest));
    infra.accountRequests.start();
    await startSubscribers(config, logger, infra);
  }
  const http = createHttpApp({
    config: {
      bodyLimitBytes: config.bodyLimitBytes,
      corsOrigins: config.corsOrigins,
      trustedProxies: config.trustedProxies,
      requireEmailVerification: config.requireEmailVerification,
      rateLimits: rateLimitPolicies(config.abuse.rateLimits),
      rateLimitIpv6Prefix: config.abuse.ipv6Prefix,
    },
    metrics: metrics.http,
    logger,
    resolve: (id) => container.get(id),
  });
  let server: TrackedHttpServer | null = null;
  return {
    config,
    logger,
    container,
    infra,
    http,
    listen: () => {
      // Warned by the processes that serve (not the CLI, which creates the application too).
      if (!server) for (const warning of startupWarnings(config)) logger.warn({ env: config.env }, warning);
      // What Node's parser refuses never reaches the app's request log and metrics: logged (bounded) and counted here.
      server ??= new TrackedHttpServer(http.callback(), { keepAliveTimeoutMs: config.keepAliveTimeoutSeconds * 1000 }, refusedRequestReporter(logger, metrics.clientErrors));
      return server.listen(config.port, config.host);
    },
    close: async (graceMs = requestGraceMs(config)) => {
      container.get(HTTP_TOKENS.Health).drain?.();
      // A cluster worker takes what the primary still holds before it stops listening (TrackedHttpServer.quiesce),
      // its answers saying `Connection: close` from the quiesce's start, as after stop().
      if (server && options.clusterWorker === true) await server.quiesce(CLUSTER_QUIET_MS, CLUSTER_QUIET_MAX_MS);
      if (server) await server.stop(graceMs);
      await infra.close();
    },
  };
}
