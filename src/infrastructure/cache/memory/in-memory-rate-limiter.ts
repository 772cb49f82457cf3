import type { Clock } from '@application/ports/clock';
import type { RateLimitPolicy, RateLimitResult, RateLimiter } from '@application/ports/rate-limiter';
import { memoryKey } from './memory-key';

interface Window {
  count: number;
  resetAt: number;
}

const SWEEP_EVERY = 1000;

/**
 * Windows kept at most (about 200 bytes each: some 20 MB). Past it the window started longest ago is forgotten. A
 * review (2026-12-07): nothing bounded them but the windows' ends, and keys new to each request (a sign-up's address,
 * counted for an hour, from many addresses of one IPv6 /48) could hold more than the heap within one window.
 */
export const MAX_WINDOWS = 100_000;

/**
 * Fixed windows in process memory (embedded mode, one process), timed by the Clock. The same semantics as the
 * Redis adapter: a window starts with its first request and lasts `windowSeconds`; refused requests count too.
 * Unlike Redis it keeps at most `maxWindows`: a flood of that many new keys inside a window forgets the oldest counts.
 */
export class InMemoryRateLimiter implements RateLimiter {
  /** Least recently started first: a window is moved to the end when it starts again. */
  private readonly windows = new Map<string, Window>();
  private calls = 0;

  constructor(
    private readonly clock: Clock,
    private readonly maxWindows = MAX_WINDOWS,
  ) {}

  async consume(policy: RateLimitPolicy, key: string): Promise<RateLimitResult> {
    const now = this.clock.now().getTime();
    if (++this.calls % SWEEP_EVERY === 0) this.sweep(now);
    // Filed under a digest: a key may be a typed identifier, expanded by NFKC (see memoryKey).
    const id = memoryKey(`${policy.name}\u0000${key}`);
    let window = this.windows.get(id);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + policy.windowSeconds * 1000 };
      this.windows.delete(id);
      this.windows.set(id, window);
      if (this.windows.size > this.maxWindows) this.windows.delete(this.windows.keys().next().value as string);
    }
    window.count += 1;
    return {
      allowed: window.count <= policy.limit,
      remaining: Math.max(0, policy.limit - window.count),
      resetSeconds: Math.max(1, Math.ceil((window.resetAt - now) / 1000)),
    };
  }

  /** How many windows are kept (for tests). */
  get size(): number {
    return this.windows.size;
  }

  /** Forgets finished windows, so that what is kept is the keys seen in one window (at most maxWindows). */
  private sweep(now: number): void {
    for (const [id, window] of this.windows) if (window.resetAt <= now) this.windows.delete(id);
  }
}
