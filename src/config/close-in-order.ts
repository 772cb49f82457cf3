import type { Logger } from '@application/ports/logger';

/**
 * Runs shutdown steps one after another, each whatever became of the ones before: a step that rejects is logged and
 * the rest still run (until stop 65 the first rejection skipped them all: the cache's connection, the embedded
 * DATA_DIR's lock, the strength estimator's worker stayed open; a review of exception handling). Rejects with the
 * first failure once every step has run.
 */
export async function closeInOrder(logger: Logger, steps: ReadonlyArray<readonly [name: string, close: () => Promise<void> | void]>): Promise<void> {
  let first: { error: unknown } | null = null;
  for (const [name, close] of steps) {
    try {
      await close();
    } catch (error) {
      logger.error({ err: error, step: name }, 'shutdown: a step failed; the others still run');
      first ??= { error };
    }
  }
  if (first) throw first.error;
}
