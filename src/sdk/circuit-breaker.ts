import { circuitOpen } from './errors';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit (default 5). */
  failureThreshold?: number;
  /** How long it stays open before one trial call is let through (default 10 s). */
  resetAfterMs?: number;
  /** Milliseconds since the epoch; injectable so tests move time instead of waiting. */
  now?: () => number;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * Closed: calls pass, failures are counted. Open: calls fail at once with AUTH_UNAVAILABLE (fail closed, no
 * request). After `resetAfterMs` one trial call passes (half-open); its success closes the circuit, its
 * failure opens it again. Only what the caller marks as a failure to reach the service counts; any other error
 * is an answer (a 4xx: the service is up) and, like a success, resets the count and closes the circuit, so
 * "consecutive" means it: unreachable, 401, unreachable, 401, ... never opens it. The caller keeps errors that
 * are neither (its own input that could not make a request) out of `call`.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;
  private opened = false;
  private readonly threshold: number;
  private readonly resetMs: number;
  private readonly now: () => number;

  constructor(options: CircuitBreakerOptions = {}) {
    this.threshold = options.failureThreshold ?? 5;
    this.resetMs = options.resetAfterMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  get state(): CircuitState {
    if (!this.opened) return 'closed';
    return this.now() - this.openedAt >= this.resetMs ? 'half-open' : 'open';
  }

  /**
   * Runs `call` if the circuit lets it. `isFailure` tells a failure to reach the service (network error,
   * 5xx) from an answer (a 4xx is the service working, and resets the count as a success does).
   */
  async run<T>(call: () => Promise<T>, isFailure: (error: unknown) => boolean): Promise<T> {
    const state = this.state;
    if (state === 'open' || (state === 'half-open' && this.trialInFlight)) throw circuitOpen();
    const trial = state === 'half-open';
    if (trial) this.trialInFlight = true;
    try {
      const result = await call();
      this.answered();
      return result;
    } catch (error) {
      if (isFailure(error)) this.recordFailure();
      else this.answered();
      throw error;
    } finally {
      if (trial) this.trialInFlight = false;
    }
  }

  /** The service answered: it is reachable. */
  private answered(): void {
    this.failures = 0;
    this.opened = false;
  }

  private recordFailure(): void {
    this.failures += 1;
    if (this.opened || this.failures >= this.threshold) {
      this.opened = true;
      this.openedAt = this.now();
    }
  }
}
