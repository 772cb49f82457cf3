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

/**
 * A failure as the one stderr line CONTRACT §8 asks for: `<prefix> failed: <why>`. An AggregateError without a
 * message (Node's connect to a host name with several addresses, passed on by pg) names its inner errors, which say
 * what failed (until 2026-12-07 the line was just `cli failed: AggregateError`: a review); line breaks are folded.
 */
export function failureLine(prefix: string, error: unknown): string {
  const why = describe(error).replace(/\s+/g, ' ').trim();
  return `${prefix} failed: ${why === '' ? 'unknown error' : why}`;
}

function describe(error: unknown): string {
  if (error instanceof AggregateError && error.message === '' && error.errors.length > 0) {
    return `${error.name}: ${error.errors.map((inner: unknown) => (inner instanceof Error ? inner.message || inner.name : String(inner))).join('; ')}`;
  }
  return String(error);
}

const OPTION_NAME = /^--[a-z][a-z0-9-]{0,39}(?==|$)/;
const COMMAND_NAME = /^[a-z][a-z0-9-]{0,39}$/;

/**
 * An argument as a refusal may show it: an option by its name only (`--name`, any `=value` left out), a word that
 * could be a command's name as typed (the command itself), and anything else by its place and length, not its text: a value typed in the
 * wrong place may be a password or a client secret (`create-admin --password-stdin S3cret...` printed the password
 * on stderr, into CI and operators' logs, until a review of stop 62). `position` counts from 1.
 */
export function shownArgument(arg: string | undefined, position: number, kind: 'option' | 'command' = 'option'): string {
  if (arg === undefined) return `argument ${position}`;
  const option = OPTION_NAME.exec(arg);
  if (option) return option[0] === arg ? arg : `${option[0]}=...`;
  if (kind === 'command') return COMMAND_NAME.test(arg) ? arg : `a word of ${[...arg].length} characters (not shown)`;
  return `argument ${position} (${[...arg].length} characters, not shown)`;
}
