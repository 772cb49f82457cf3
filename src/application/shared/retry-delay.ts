/** Capped exponential growth: the first retry waits `baseMs`, each further one twice as long, none longer than `maxMs`. */
export interface RetryDelayPolicy {
  baseMs: number;
  maxMs: number;
}

/**
 * The one retry delay of the service (background workers, event redelivery, broker reconnects): attempt n
 * (1-based) waits base·2^(n-1), capped at max, then drawn at random from [half, all] of it so that instances
 * that failed together do not retry in step.
 */
export function retryDelayMs(attempt: number, policy: RetryDelayPolicy): number {
  const capped = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(capped / 2 + Math.random() * (capped / 2));
}

/** Consecutive failures of one thing (a broker connection, a relay): the wait after each, until reset by a success. */
export class Backoff {
  private failures = 0;

  constructor(private readonly policy: RetryDelayPolicy) {}

  /** The wait after one more failure. */
  next(): number {
    this.failures += 1;
    return retryDelayMs(this.failures, this.policy);
  }

  reset(): void {
    this.failures = 0;
  }

  get failing(): boolean {
    return this.failures > 0;
  }
}
