import type { Logger } from '@application/ports/logger';
import type { RateLimitPolicy, RateLimitResult, RateLimiter } from '@application/ports/rate-limiter';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RedisClient } from './redis-connection';
import type { RedisKeys } from './redis-keys';

/**
 * Fixed windows in Redis through rate-limiter-flexible (one atomic Lua INCR + expiry per call), shared by every
 * instance. While Redis is unreachable each instance falls back to its own in-memory windows (the insurance
 * limiter): limits keep holding per instance rather than failing every request or none.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly limiters = new Map<string, RateLimiterRedis>();

  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeys,
    private readonly logger: Logger,
  ) {}

  async consume(policy: RateLimitPolicy, key: string): Promise<RateLimitResult> {
    try {
      const res = await this.limiter(policy).consume(this.keys.digest(key));
      return toResult(res, true);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return toResult(rejection, false);
      throw rejection;
    }
  }

  private limiter(policy: RateLimitPolicy): RateLimiterRedis {
    const id = `${policy.name}:${policy.limit}:${policy.windowSeconds}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      const shape = { points: policy.limit, duration: policy.windowSeconds };
      limiter = new RateLimiterRedis({
        ...shape,
        storeClient: this.client,
        useRedisPackage: true,
        rejectIfRedisNotReady: true,
        keyPrefix: `${this.keys.prefix}rl:${policy.name}`,
        insuranceLimiter: new InsuranceLimiter(shape, policy.name, this.logger),
      });
      this.limiters.set(id, limiter);
    }
    return limiter;
  }
}

function toResult(res: RateLimiterRes, allowed: boolean): RateLimitResult {
  return {
    allowed,
    remaining: Math.max(0, res.remainingPoints),
    resetSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
  };
}

/** The in-memory fallback, saying once per outage (and policy) that limits are per instance for now. */
class InsuranceLimiter extends RateLimiterMemory {
  private warned = 0;

  constructor(
    shape: { points: number; duration: number },
    private readonly policyName: string,
    private readonly logger: Logger,
  ) {
    super(shape);
  }

  override consume(key: string | number, points?: number, options?: { [key: string]: unknown }): Promise<RateLimiterRes> {
    const now = Date.now();
    if (now - this.warned > 60_000) {
      this.warned = now;
      this.logger.warn({ policy: this.policyName }, 'redis unavailable: rate limit counted in this instance only');
    }
    return super.consume(key, points, options);
  }
}
