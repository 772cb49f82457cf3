/**
 * SIGTERM and SIGINT, caught from the very start of the service process: src/main.ts imports stop-signals-caught.ts
 * (which calls catchStopSignals) first, before the rest of the service's modules load and long before start-up
 * (migrations, the embedded database, keys, connections) ends.
 *
 * Node applies a signal's default action while no listener exists: a process that is not PID 1 dies at once, without
 * closing anything (an embedded DATA_DIR stays locked); PID 1 (`node` in the image, no init) has the signal discarded,
 * so a stop during start-up was lost: the process went on to serve and start its background jobs, and was killed at
 * the end of the grace period without draining (an outside review, 2026-12-05). Until then main.ts installed its
 * handlers only once the server listened.
 *
 * A signal received before `handleWith` is held and handed over then; from then on every signal goes to the handler,
 * which decides what a first and a later one do.
 */
export type StopHandler = (signal: string) => void;

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

export interface StopSignals {
  /** The first signal received before a handler was set, or null. */
  readonly pending: string | null;
  /** From now on every signal calls `handler`; one received before is handed to it at once. */
  handleWith(handler: StopHandler): void;
}

/** Listens for SIGTERM and SIGINT on `target` (the process). */
export function catchStopSignals(target: Pick<NodeJS.Process, 'on'> = process): StopSignals {
  let handler: StopHandler | null = null;
  let pending: string | null = null;
  for (const signal of SIGNALS) {
    target.on(signal, () => {
      if (handler) handler(signal);
      else pending ??= signal;
    });
  }
  return {
    get pending() {
      return pending;
    },
    handleWith(next) {
      handler = next;
      if (pending !== null) {
        const signal = pending;
        pending = null;
        next(signal);
      }
    },
  };
}
