import { retryDelayMs } from '@application/shared/retry-delay';

/** The settings every leased-queue worker shares (email outbox, account requests). */
export interface LeasedQueueSettings {
  /** Rows claimed per round. */
  batchSize: number;
  /** How often to look for due rows without a poke (retries, rows queued by other instances). */
  pollIntervalMs: number;
  /** How long a claim holds a row: longer than the worst processing of one. */
  leaseSeconds: number;
  /** First retry delay; doubles per attempt up to `maxRetrySeconds`, with jitter (retryDelayMs). */
  baseRetrySeconds: number;
  maxRetrySeconds: number;
  /** Attempts before a row is given up on. */
  maxAttempts: number;
}

export function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}

/** When a row that failed its `attempts`-th attempt at `now` is due again. */
export function nextAttemptAt(now: Date, attempts: number, settings: Pick<LeasedQueueSettings, 'baseRetrySeconds' | 'maxRetrySeconds'>): Date {
  return new Date(now.getTime() + retryDelayMs(attempts, { baseMs: settings.baseRetrySeconds * 1000, maxMs: settings.maxRetrySeconds * 1000 }));
}

/** Code and message only, bounded: never a payload or a body (nodemailer errors carry none), for the row and the log. */
export function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error).slice(0, 500);
  const code = (error as { code?: unknown }).code;
  return `${typeof code === 'string' ? `${code}: ` : ''}${error.message}`.slice(0, 500);
}
