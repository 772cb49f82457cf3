import type { ServiceIdentifier } from 'inversify';
import type { ErrorCode } from '@domain/shared/domain-error';
import type { HttpErrorCode } from '../errors/http-error';
import type { HttpContext } from '../http-state';
import type { StaticDocument } from '../static-document';
import type { Principal } from '@application/session/validate-access-token';
import type { IdentifierOf } from '../middleware/rate-limit';

/**
 * Every HTTP route is data (DESIGN 10): one mount builds each route's middleware chain from its entry, and the
 * same entries generate the OpenAPI document and label the metrics. A feature exports a table of these.
 */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Who may call: anyone, a signed-in user (bearer user token), a service client, or a user holding a role. */
export type AuthRequirement = 'none' | 'user' | 'client' | { role: string };

/**
 * Rate-limit groups: routes that share one pair of variables (RATE_LIMIT_<GROUP>_IP / _ID). The one list of them:
 * the configuration reads a pair per name, and each route names its group (they were listed three times until stop 51).
 * current_password: the routes that check the current password; its `_ID` quota counts per signed-in user id.
 * profile: PATCH /users/me; its `_ID` quota counts per signed-in user id (a username taken or free is an answer).
 * oauth: /oauth/token; its `_ID` quota counts per authenticated service client.
 * introspect: /oauth/introspect, apart from oauth so that a busy verifier cannot spend the quota its token requests need.
 * revoke: /oauth/revoke, apart from oauth so that a gateway revoking its users' tokens cannot spend its token quota.
 */
export const RATE_LIMIT_GROUPS = ['login', 'register', 'verify', 'password_reset', 'refresh', 'current_password', 'mfa', 'mfa_setup', 'profile', 'oauth', 'introspect', 'revoke'] as const;
export type RateLimitGroup = (typeof RATE_LIMIT_GROUPS)[number];

export interface RouteLimit {
  group: RateLimitGroup;
  /**
   * The second quota: per identifier read from the raw body (after it is parsed), or per signed-in user (after
   * the bearer check, before the body is read), or per service client (after client authentication, so that
   * nobody can spend a client's quota with wrong secrets). Omitted: per client IP only.
   */
  identifier?: IdentifierOf | 'user' | 'client';
}

/** A class whose instances are validated request bodies (class-validator metadata drives validation and OpenAPI). */
export type DtoClass<T = object> = new () => T;

/**
 * A JSON Schema (2020-12, as OpenAPI 3.1 uses) of a response's `data`, or a DTO class whose metadata gives it.
 * `envelope: false` for the standards-shaped endpoints (JWKS, /oauth/*, /health/*, /metrics, /openapi.json).
 */
export interface ResponseSpec {
  description: string;
  schema?: Record<string, unknown> | DtoClass;
  envelope?: boolean;
  /** Media type when not application/json (e.g. text/plain for /metrics, text/html for /docs). */
  contentType?: string;
  /** Response headers to document (e.g. Retry-After on the OAuth-shaped 429 and 503). */
  headers?: Record<string, { description: string; schema: Record<string, unknown> }>;
}

export type RouteErrorCode = ErrorCode | HttpErrorCode | 'INTERNAL_ERROR';

export interface RouteDef<Body extends object = object, Service = unknown, Query extends object = object> {
  method: HttpMethod;
  /** The full path pattern as the router matches it, `:name` for parameters (e.g. `/api/v1/users/me/sessions/:id`). */
  path: string;
  summary: string;
  /** Grouping in the OpenAPI document and the docs page. */
  tags: string[];
  auth: AuthRequirement;
  limit?: RouteLimit;
  /**
   * A JSON body validated into `dto` (415/413/400 before the handler); `optional`: an empty body is `{}`.
   * `form`: standards-shaped parameters (RFC 6749 §3.2): application/x-www-form-urlencoded or JSON, each
   * parameter at most once, parameters the DTO does not declare ignored (RFC 6749 §3.1), not rejected.
   * Omitted on a POST, PUT or PATCH: the route takes nothing or `{}` and refuses anything else as a body route
   * refuses bad input (request-body.ts).
   */
  body?: {
    dto: DtoClass<Body>;
    optional?: boolean;
    form?: boolean;
    /**
     * What the DTO's decorators cannot say (a rule across fields, a domain value's own rules), run with the
     * validation: a request it refuses (it throws a 400) is malformed, so it spends no per-identifier quota. Until
     * stop 50 such checks ran in the handler, after the quota: a login naming both an email and a username, or a
     * sign-up with a malformed username, spent the quota of the address it named (an outside review).
     */
    check?: (dto: Body) => void;
  };
  /**
   * The query string validated into `dto` after the auth check (a string member per parameter; unknown or
   * repeated parameters are a 400 VALIDATION_ERROR); the handler reads it on `ctx.state.query`. Documented as
   * the operation's query parameters.
   */
  query?: { dto: DtoClass<Query> };
  /** By status: what a success returns. */
  responses: Record<number, ResponseSpec>;
  /** The error codes this route can answer besides the generic ones every route has (400 bad input, 500). */
  errors: RouteErrorCode[];
  /**
   * 'oauth': every error the route's chain raises is answered in the RFC 6749 §5.2 shape (`{error,
   * error_description}`, no envelope) with `Cache-Control: no-store` and `Pragma: no-cache`; only an
   * unexpected failure still reaches the envelope's 500. The route documents its error bodies in `responses`.
   */
  errorFormat?: 'oauth';
  /** What the handler calls: a use case class (or a port token), resolved from the container by the mount. */
  uses?: ServiceIdentifier<Service>;
  /**
   * A GET of a public, precomputed document (JWKS, RFC 8414 metadata): the current rendering, which the static
   * lane (static-lane.ts) writes straight to the socket before Koa sees the request, with the security headers
   * captured once; no auth, body, query or quota allowed. The route stays mounted, its `handle` sending the same
   * document, for what the lane leaves to Koa (CORS requests, a query string).
   */
  staticDocument?(service: Service): StaticDocument | Promise<StaticDocument>;
  /**
   * A GET whose answer is a view of the signed-in principal alone (`/auth/validate`, `/users/me`): the `data` of
   * its 200 envelope. The bearer lane (bearer-lane.ts) answers it in front of Koa, errors included, with the
   * headers, metric and log line of the general path; `handle` still serves what the lane leaves to Koa (CORS
   * requests, a query string, HEAD). Only for a fixed path with `auth: 'user'` and no body, query or quota.
   */
  principalView?(principal: Principal): object;
  handle(ctx: RouteContext<Body, Query>, service: Service): Promise<void>;
}

/**
 * The Koa context a handler gets: the validated body on `ctx.state.dto` when the route has one, the validated
 * query on `ctx.state.query` when it declares one, and `ctx.state.now`: the Clock port's instant as the handler
 * starts, at which views that change with time alone (the admin API's user: status `locked` while a login lock
 * lasts) are presented.
 */
export type RouteContext<Body extends object = object, Query extends object = object> = HttpContext & { state: { dto: Body; query: Query; now: Date } };
