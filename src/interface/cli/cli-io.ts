import type { Clock } from '@application/ports/clock';

/** What a CLI command reads and writes: the process's own in `npm run cli`, captured ones in the tests. */
export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdin: AsyncIterable<Buffer | string>;
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /**
   * The host's clock: the system's when absent (`npm run cli`); a test's set ahead or behind plays a host whose clock
   * is off. Against a configured PostgreSQL a command decides on the database's time all the same (database-clock.ts).
   */
  readonly clock?: Clock;
}
