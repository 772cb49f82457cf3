import type { DeferredWork } from '@application/ports/deferred-work';
import type { Logger } from '@application/ports/logger';

/** How a failed task is tried again. */
export interface DeferredRetryOptions {
  /** The wait after the first failure; it doubles after each further one. */
  firstDelayMs: number;
  /** The longest wait between two tries. */
  maxDelayMs: number;
  /** A task still failing this long after it was deferred is given up (its last try is at about this age). */
  maxAgeMs: number;
  /**
   * At most this many tasks wait for a retry at once; a task failing while that many wait is given up at once
   * (reason `overflow`): a long database outage under a flood of failed logins must not fill the heap with retries.
   */
  maxWaiting: number;
  /** Milliseconds now (tests inject a clock). */
  now: () => number;
}

export const DEFAULT_DEFERRED_RETRY: Readonly<DeferredRetryOptions> = {
  firstDelayMs: 250,
  maxDelayMs: 30_000,
  maxAgeMs: 5 * 60_000,
  maxWaiting: 1_000,
  now: () => Date.now(),
};

/**
 * DeferredWork in this process: each task starts on setImmediate (after the microtasks that write the response
 * it follows), runs on its own, and is tracked until it settles; `drain()` waits for all of them (tests that read
 * what a task wrote), `close()` too (shutdown). The same class serves both modes: there is nothing to share across
 * instances, a task belongs to the request that deferred it.
 * A task that fails is tried again (the deferred tasks are each one unit of work, so a failed try committed
 * nothing): after 250 ms, then twice as long each time up to 30 s between tries, until it succeeds or 5 minutes
 * after it was deferred (a database blip or a row lock held past the query deadline must not lose a lockout's event,
 * audit entry and notice). Once `close()` is called, a failing task gets one more try, at once, and is then given up:
 * shutdown does not wait for a database that is gone. A task is still lost when the process dies before it succeeds.
 * Each failure is logged with the task's name and the try's number, never the task's data.
 */
export class DeferredTasks implements DeferredWork {
  private readonly running = new Set<Promise<void>>();
  /** Tasks waiting for their next try: each entry ends that wait at once. */
  private readonly waiting = new Set<() => void>();
  private readonly retry: DeferredRetryOptions;
  private closing = false;

  constructor(
    private readonly logger: Logger,
    retry: Partial<DeferredRetryOptions> = {},
  ) {
    this.retry = { ...DEFAULT_DEFERRED_RETRY, ...retry };
  }

  defer(what: string, task: () => Promise<void>): void {
    const deferredAt = this.retry.now();
    const run: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.attempt(what, task, deferredAt))
      .catch((error: unknown) => this.logger.error({ err: error, task: what }, 'deferred task failed'))
      .finally(() => this.running.delete(run));
    this.running.add(run);
  }

  /** How many tasks are deferred and not yet settled (retrying ones included). */
  get pending(): number {
    return this.running.size;
  }

  /** Resolves once every task deferred so far, and any they deferred in turn, has settled (succeeded or given up). */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /** Shutdown: a task waiting to be tried again is tried now, and any failing from now on is given up; then drain(). */
  async close(): Promise<void> {
    this.closing = true;
    for (const wake of [...this.waiting]) wake();
    await this.drain();
  }

  private async attempt(what: string, task: () => Promise<void>, deferredAt: number): Promise<void> {
    let delay = this.retry.firstDelayMs;
    for (let tries = 1; ; tries += 1) {
      // A try started once closing is the last one.
      const last = this.closing;
      try {
        await task();
        if (tries > 1) this.logger.info({ task: what, attempt: tries }, 'deferred task succeeded after retrying');
        return;
      } catch (error) {
        const left = deferredAt + this.retry.maxAgeMs - this.retry.now();
        const full = this.waiting.size >= this.retry.maxWaiting;
        if (last || left <= 0 || full) {
          const reason = last ? 'shutdown' : left <= 0 ? 'max_age' : 'overflow';
          this.logger.error({ err: error, task: what, attempts: tries, reason }, 'deferred task failed; given up');
          return;
        }
        const wait = this.closing ? 0 : Math.min(delay, left);
        this.logger.warn({ err: error, task: what, attempt: tries, retryInMs: wait }, 'deferred task failed; will retry');
        await this.pause(wait);
        delay = Math.min(delay * 2, this.retry.maxDelayMs);
      }
    }
  }

  /** Waits `ms`, or less should close() be called meanwhile. */
  private pause(ms: number): Promise<void> {
    if (ms <= 0 || this.closing) return new Promise((resolve) => setImmediate(resolve));
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.waiting.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.waiting.add(wake);
    });
  }
}
