import type { DeferredWork } from '@application/ports/deferred-work';
import type { Logger } from '@application/ports/logger';

/**
 * DeferredWork in this process: each task starts on setImmediate (after the microtasks that write the response
 * it follows), runs on its own, and is tracked until it settles; `drain()` waits for all of them (shutdown, and
 * tests that read what a task wrote). The same class serves both modes: there is nothing to share across
 * instances, a task belongs to the request that deferred it.
 */
export class DeferredTasks implements DeferredWork {
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly logger: Logger) {}

  defer(what: string, task: () => Promise<void>): void {
    const run: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(task)
      .catch((error: unknown) => this.logger.error({ err: error, task: what }, 'deferred task failed'))
      .finally(() => this.running.delete(run));
    this.running.add(run);
  }

  /** How many tasks are deferred and not yet settled. */
  get pending(): number {
    return this.running.size;
  }

  /** Resolves once every task deferred so far, and any they deferred in turn, has settled. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}
