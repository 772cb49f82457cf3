export interface BackoffOptions {
  /** Retries after the first attempt (default 3). */
  retries?: number;
  /** First delay cap in ms (default 100); doubles per attempt. */
  baseDelayMs?: number;
  /** Largest delay in ms (default 2000). */
  maxDelayMs?: number;
  /** Injectable for tests: how to wait, and where the jitter comes from. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** "Full jitter": a uniform delay in [0, min(max, base * 2^attempt)), so many clients do not retry in step. */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const cap = Math.min(options.maxDelayMs ?? 2000, (options.baseDelayMs ?? 100) * 2 ** attempt);
  return Math.floor((options.random ?? Math.random)() * cap);
}

/** Calls `attempt` until it succeeds, `retryable` says no, or the retries are spent; rethrows the last error. */
export async function withRetries<T>(attempt: () => Promise<T>, retryable: (error: unknown) => boolean, options: BackoffOptions): Promise<T> {
  const retries = options.retries ?? 3;
  const sleep = options.sleep ?? realSleep;
  for (let n = 0; ; n += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (n >= retries || !retryable(error)) throw error;
      await sleep(backoffDelay(n, options));
    }
  }
}
