import type { ParameterizedContext } from 'koa';
import type { ClientContext } from '@application/shared/client-context';
import type { Principal } from '@application/session/validate-access-token';
import type { ServiceClient } from '@domain/client/service-client';
import type { RateLimitPolicy, RateLimitResult } from '@application/ports/rate-limiter';

/** What the middleware puts on `ctx.state`; handlers read it, never the raw headers. */
export interface HttpState {
  /** Echoed from X-Request-ID when well-formed, otherwise a new UUID. */
  requestId: string;
  /** Logs with the request id. */
  log: RequestLog;
  client: ClientContext;
  /** What per-IP rate limits count: the client's IPv4 address, or its IPv6 network (RATE_LIMIT_IPV6_PREFIX). */
  clientNetwork?: string | null;
  /** The parsed JSON object of a body route (set by the JSON body reader), not yet validated. */
  body?: Record<string, unknown>;
  /** Set by the client guard on routes whose `auth` is 'client' (the authenticated service client). */
  serviceClient?: ServiceClient;
  /** Set by the bearer middleware on protected routes only. */
  principal?: Principal;
  /** Set by the route mount: the matched route's method and path pattern (the metrics' route label). */
  route?: { method: string; path: string };
  /**
   * The quotas a rate-limited route consumed so far, for the RateLimit headers (those `disclosed`) and the
   * metrics' refusal count (all).
   */
  rateLimits?: { policy: RateLimitPolicy; result: RateLimitResult; disclosed: boolean }[];
  /**
   * A 5xx that is the route's answer, not a failure of it (readiness's 503 "a dependency is down"; a deliberate
   * refusal such as a saturated hashing queue's 503 SERVICE_UNAVAILABLE, counted by its own metric): logged at info.
   * A probe every few seconds logged each at error through an outage (an outside review, 2026-12-03), and a login
   * flood one error line per refused login, enough to page an operator for designed behaviour (one, 2026-12-08).
   */
  statusIsTheAnswer?: boolean;
}

/** A logger whose every line carries the request's id. */
export interface RequestLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export type HttpContext = ParameterizedContext<HttpState>;
