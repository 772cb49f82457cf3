import type { Clock } from '@application/ports/clock';
import type { RateLimitPolicy, RateLimitResult, RateLimiter } from '@application/ports/rate-limiter';
import { memoryKey } from './memory-key';

interface Window {
  count: number;
  resetAt: number;
}

const SWEEP_EVERY = 1000;

/**
 * Fixed windows in process memory (embedded mode, one process), timed by the Clock. The same semantics as the
 * Redis adapter: a window starts with its first request and lasts `windowSeconds`; refused requests count too.
 */
export class InMemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, Window>();
  private calls = 0;

  constructor(private readonly clock: Clock) {}

  async consume(policy: RateLimitPolicy, key: string): Promise<RateLimitResult> {
    const now = this.clock.now().getTime();
    if (++this.calls % SWEEP_EVERY === 0) this.sweep(now);
    // Filed under a digest: a key may be a typed identifier, expanded by NFKC (see memoryKey).
    const id = memoryKey(`${policy.name}\u0000${key}`);
    let window = this.windows.get(id);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + policy.windowSeconds * 1000 };
      this.windows.set(id, window);
    }
    window.count += 1;
    return {
      allowed: window.count <= policy.limit,
      remaining: Math.max(0, policy.limit - window.count),
      resetSeconds: Math.max(1, Math.ceil((window.resetAt - now) / 1000)),
    };
  }

  /** Forgets finished windows so that memory stays bounded by the keys seen in one window. */
  private sweep(now: number): void {
    for (const [id, window] of this.windows) if (window.resetAt <= now) this.windows.delete(id);
  }
}
