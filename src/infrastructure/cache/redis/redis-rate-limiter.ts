import type { Logger } from '@application/ports/logger';
import type { RateLimitPolicy, RateLimitResult, RateLimiter } from '@application/ports/rate-limiter';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { SystemClock } from '../../time/system-clock';
import { InMemoryRateLimiter } from '../memory/in-memory-rate-limiter';
import type { RedisClient } from './redis-connection';
import type { RedisKeys } from './redis-keys';

const WARN_EVERY_MS = 60_000;

/**
 * Fixed windows in Redis through rate-limiter-flexible (one atomic Lua INCR + expiry per call), shared by every
 * instance. While Redis is unreachable, stalls past its deadline or refuses the write, each instance counts in its
 * own memory instead (limits keep holding per instance rather than failing every request or none), in the bounded
 * InMemoryRateLimiter of embedded mode: at most MAX_WINDOWS windows, the oldest forgotten past it. Until 2026-12-07
 * the fallback was rate-limiter-flexible's RateLimiterMemory, which kept every key until its window ended (an hour
 * for a sign-up's address): during an outage, requests naming a new address each (about 500 bytes a key) could
 * fill the heap (a review of stop 63).
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly limiters = new Map<string, RateLimiterRedis>();
  private readonly warnedAt = new Map<string, number>();

  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeys,
    private readonly logger: Logger,
    private readonly fallback: RateLimiter = new InMemoryRateLimiter(new SystemClock()),
  ) {}

  async consume(policy: RateLimitPolicy, key: string): Promise<RateLimitResult> {
    try {
      const res = await this.limiter(policy).consume(this.keys.digest(key));
      return toResult(res, true);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return toResult(rejection, false);
      this.warnOnce(policy.name);
      return this.fallback.consume(policy, key);
    }
  }

  /** Once a minute per policy, that limits are counted per instance for now. */
  private warnOnce(policyName: string): void {
    const now = Date.now();
    if (now - (this.warnedAt.get(policyName) ?? 0) <= WARN_EVERY_MS) return;
    this.warnedAt.set(policyName, now);
    this.logger.warn({ policy: policyName }, 'redis unavailable: rate limit counted in this instance only');
  }

  private limiter(policy: RateLimitPolicy): RateLimiterRedis {
    const id = `${policy.name}:${policy.limit}:${policy.windowSeconds}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        points: policy.limit,
        duration: policy.windowSeconds,
        storeClient: this.client,
        useRedisPackage: true,
        rejectIfRedisNotReady: true,
        keyPrefix: `${this.keys.prefix}rl:${policy.name}`,
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
