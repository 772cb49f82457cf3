import type { ServiceIdentifier } from 'inversify';
import type { Logger as PinoLogger } from 'pino';
import { token } from '@application/ports/tokens';
import type { RouteRateLimits } from './middleware/rate-limit';
import type { HttpMetrics } from './metrics/http-metrics';
import type { RateLimitGroup, RouteDef } from './routing/route';

export interface HealthChecks {
  database: 'up' | 'down';
  cache: 'up' | 'down';
  broker: 'up' | 'down';
}

/** Dependency checks for /health/ready ('up' also for embedded parts). */
export interface HealthProbe {
  check(): Promise<HealthChecks>;
  /**
   * The latest check's result, null before the first: what /health/live reports without any I/O of its own
   * (a liveness probe must not fail, or hang, because a dependency does). Readiness probes keep it fresh.
   */
  lastKnown(): HealthChecks | null;
  /** True once the process is shutting down: readiness answers 503 `draining` on connections still open. */
  draining?(): boolean;
  /** Called when the process starts shutting down. */
  drain?(): void;
  /**
   * How many migrations this version needs that the database has not applied (0: none). Readiness answers 503
   * while there are any; liveness never asks. Cheap to call on every probe: the answer is cached between re-reads.
   */
  pendingMigrations?(): Promise<number>;
}

/** RFC 7517 JWK Set of the published signing keys (at hand in memory, or fetched). */
export interface JwksSource {
  jwks(): { keys: Record<string, string>[] } | Promise<{ keys: Record<string, string>[] }>;
}

/** RFC 8414: who this authorization server is and where it is reached (the configured issuer). */
export interface AuthorizationServerInfo {
  /** JWT_ISSUER, the `iss` of every token. */
  issuer: string;
  /** The URL the endpoints are published under: the issuer when it is an http(s) URL, else APP_PUBLIC_URL. */
  baseUrl: string;
}

/** What the HTTP adapter needs from the composition root besides the ports and use cases. */
export const HTTP_TOKENS = {
  Health: token<HealthProbe>('HealthProbe'),
  Jwks: token<JwksSource>('JwksSource'),
  AuthorizationServer: token<AuthorizationServerInfo>('AuthorizationServerInfo'),
} as const;

export interface HttpConfig {
  /** Body size limit in bytes (default 16 KiB). */
  bodyLimitBytes: number;
  /** Allowed CORS origins; empty = CORS off. */
  corsOrigins: string[];
  /** Peers (IPs) whose X-Forwarded-For is trusted; empty = use the socket address only. */
  trustedProxies: string[];
  /** Whether verification is required (register answers 202 instead of 201). */
  requireEmailVerification: boolean;
  /** Per-IP quotas count IPv6 clients by this many leading bits (RATE_LIMIT_IPV6_PREFIX, default 64). */
  rateLimitIpv6Prefix?: number;
  /** Per route group, the per-IP and per-identifier quotas (RATE_LIMIT_* variables). */
  rateLimits: Record<RateLimitGroup, RouteRateLimits>;
}

/** Gets a use case (by its class), a port (by its token) or an HTTP service from the container. */
export type Resolver = <T>(id: ServiceIdentifier<T>) => T;

/**
 * Everything the HTTP adapter needs; the composition root builds it. Route entries name what they call (`uses`)
 * and the mount gets it through `resolve`, so no list of use cases is written here.
 */
export interface HttpDeps {
  config: HttpConfig;
  logger: PinoLogger;
  resolve: Resolver;
  /** The route table to mount (default: ROUTES, every route of the service). */
  routes?: readonly RouteDef[];
  /** Request durations, security counters and the /metrics endpoint of this application's registry (absent: no metrics). */
  metrics?: HttpMetrics;
}
