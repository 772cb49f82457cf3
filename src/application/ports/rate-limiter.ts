/** A named quota: at most `limit` requests per `windowSeconds` for one key (a client IP, an identifier). */
export interface RateLimitPolicy {
  /** Stable name, part of the storage key and of the RateLimit-Policy header (e.g. `login-ip`). */
  name: string;
  limit: number;
  windowSeconds: number;
}

export interface RateLimitResult {
  allowed: boolean;
  /** Requests left in the current window (0 once refused). */
  remaining: number;
  /** Seconds until the window resets (and a refused caller may try again); at least 1. */
  resetSeconds: number;
}

/**
 * Counts requests per policy and key, atomically, in a store every instance shares (Redis), or in-process in
 * embedded mode. Each call consumes one request.
 */
export interface RateLimiter {
  consume(policy: RateLimitPolicy, key: string): Promise<RateLimitResult>;
}
