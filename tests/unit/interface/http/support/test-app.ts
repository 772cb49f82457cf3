import { randomUUID } from 'node:crypto';
import type Koa from 'koa';
import type { Middleware } from 'koa';
import pino from 'pino';
import request from 'supertest';
import type { TokenPair } from '@domain/session/token-pair';
import type { User } from '@domain/user/user';
import { createMetrics } from '@config/metrics';
import { createHttpApp } from '@interface/http/app';
import { MetricsEndpoint } from '@interface/http/metrics/metrics-endpoint';
import { OpenApiDocument } from '@interface/http/openapi/openapi-document';
import { ROUTES } from '@interface/http/routes';
import { HTTP_TOKENS, type HealthChecks, type HttpConfig, type HttpDeps } from '@interface/http/http-deps';
import type { HttpState } from '@interface/http/http-state';
import { CLIENT, createKit } from '../../../application/support/test-kit';

export const DEFAULT_CONFIG: HttpConfig = {
  bodyLimitBytes: 16 * 1024,
  corsOrigins: [],
  trustedProxies: [],
  requireEmailVerification: true,
  // Off by default here: these tests are about the routes; tests/security covers the limits through the whole app.
  rateLimits: {
    login: { ip: null, identifier: null },
    register: { ip: null, identifier: null },
    verify: { ip: null, identifier: null },
    password_reset: { ip: null, identifier: null },
    refresh: { ip: null, identifier: null },
    current_password: { ip: null, identifier: null },
    mfa: { ip: null, identifier: null },
    mfa_setup: { ip: null, identifier: null },
    profile: { ip: null, identifier: null },
    oauth: { ip: null, identifier: null },
    introspect: { ip: null, identifier: null },
    revoke: { ip: null, identifier: null },
  },
};

/** The instant the HTTP tests run at: years ahead of the wall clock, so wall-clock leaks show. */
export const TEST_NOW = new Date('2030-01-01T00:00:00.000Z');

/**
 * A purpose-built route for the error-mapper tests. No use case throws FORBIDDEN or a lockout with a wait, and
 * none leaks a raw (SQL-looking) error, so tests arm `faults.error` and call this path; it is mounted inside the
 * real middleware chain (request id, logger, error handler, security headers, no-store) just before the 404/405
 * fallback. Unarmed, it answers 204.
 */
export const FAULT_PATH = '/api/v1/__test__/fault';

function faultRoute(faults: { error: unknown }): Middleware<HttpState> {
  return async (ctx, next) => {
    if (ctx.path !== FAULT_PATH) return next();
    if (faults.error !== null) throw faults.error;
    ctx.status = 204;
  };
}

export type LogLine = Record<string, unknown>;

/**
 * The real HTTP app over the real use cases of the application test kit: in-memory persistence, argon2, AES-GCM,
 * EdDSA-signed JWTs, an in-memory mailer and a manual clock set to TEST_NOW. Only the readiness checks (an
 * infrastructure composite with no in-memory counterpart) are a switch the tests flip.
 */
export async function buildTestApp(config: Partial<HttpConfig> = {}) {
  const httpConfig = { ...DEFAULT_CONFIG, ...config };
  const kit = await createKit({ requireEmailVerification: httpConfig.requireEmailVerification });
  kit.clock.set(TEST_NOW);

  const logs: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
  const health = { checks: { database: 'up', cache: 'up', broker: 'up' } as HealthChecks, fail: false, draining: false, pendingMigrations: 0, schemaReads: 0 };
  const faults: { error: unknown } = { error: null };
  const jwksFault = { fail: false };

  // The HTTP-only services the composition root binds, here over the kit's keys and a switch for readiness.
  kit.container.bind(HTTP_TOKENS.Jwks).toConstantValue({
    jwks: () => {
      if (jwksFault.fail) throw new Error('signing keys unavailable');
      return kit.keys.jwks();
    },
  });
  kit.container.bind(HTTP_TOKENS.AuthorizationServer).toConstantValue({ issuer: 'https://auth.example.com', baseUrl: 'https://auth.example.com' });
  let lastHealth: HealthChecks | null = null;
  kit.container.bind(HTTP_TOKENS.Health).toConstantValue({
    check: async () => {
      if (health.fail) throw new Error('connect ECONNREFUSED 10.0.0.5:5432');
      lastHealth = { ...health.checks };
      return lastHealth;
    },
    lastKnown: () => lastHealth,
    draining: () => health.draining,
    pendingMigrations: async () => {
      health.schemaReads += 1;
      return health.pendingMigrations;
    },
  });
  const metrics = createMetrics({ metricsToken: null, rateLimitGroups: Object.keys(DEFAULT_CONFIG.rateLimits) }).http;
  kit.container.bind(MetricsEndpoint).toConstantValue(metrics.endpoint);
  kit.container.bind(OpenApiDocument).toConstantValue(new OpenApiDocument(ROUTES, { title: 'auth-service', version: 'test' }));
  const deps: HttpDeps = { config: httpConfig, logger, resolve: kit.resolve, metrics };
  const app = createHttpApp(deps);
  // Just before the route fallback, which is the last middleware and answers 404/405 for anything unrouted.
  app.middleware.splice(app.middleware.length - 1, 0, faultRoute(faults));

  /** A user registered, verified and logged in through the real use cases, with the tokens of that login. */
  async function seedLoggedInUser(password = 'correct horse battery staple'): Promise<{ user: User; tokens: TokenPair }> {
    const suffix = randomUUID().slice(0, 8);
    const email = `user-${suffix}@example.com`;
    await kit.useCases.RegisterUser.execute({ email, password, username: `user_${suffix}`, firstName: 'Ada', lastName: 'Lovelace', client: CLIENT });
    if (httpConfig.requireEmailVerification) await kit.useCases.VerifyEmail.execute({ token: kit.lastToken(email) });
    return kit.signIn({ identifier: email, password, client: CLIENT });
  }

  return {
    app,
    deps,
    http: () => request(app.callback()),
    kit,
    db: kit.db,
    mailer: kit.mailer,
    keys: kit.keys,
    clock: kit.clock,
    logs,
    health,
    faults,
    jwksFault,
    seedLoggedInUser,
  };
}

export type TestApp = Awaited<ReturnType<typeof buildTestApp>>;
export type TestKoa = Koa<HttpState>;

/** Asserts the CONTRACT §1 error envelope and returns its error part. */
export function expectErrorEnvelope(body: unknown, code: string): { code: string; message: string; details?: Record<string, string[]> } {
  expect(body).toEqual({
    success: false,
    error: expect.objectContaining({ code, message: expect.any(String) }),
    meta: { request_id: expect.any(String), timestamp: expect.any(String), version: 'v1' },
  });
  const envelope = body as { error: { code: string; message: string; details?: Record<string, string[]> }; meta: { timestamp: string } };
  expect(new Date(envelope.meta.timestamp).toISOString()).toBe(envelope.meta.timestamp);
  return envelope.error;
}
