import type { Logger } from '@application/ports/logger';

/** Polls `condition` every few milliseconds until it holds (or fails the test after `timeoutMs`). */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      // Once more after the callbacks a stall held back (a timer fires before pending I/O callbacks run): a loaded
      // machine must not fail a condition that was about to hold.
      await new Promise((resolve) => setImmediate(resolve));
      if (await condition()) return;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
}

/** A Logger that keeps its lines for the test to read. */
export class RecordingLogger implements Logger {
  readonly lines: LogLine[] = [];
  info(fields: Record<string, unknown>, message: string): void {
    this.lines.push({ level: 'info', fields, message });
  }
  warn(fields: Record<string, unknown>, message: string): void {
    this.lines.push({ level: 'warn', fields, message });
  }
  error(fields: Record<string, unknown>, message: string): void {
    this.lines.push({ level: 'error', fields, message });
  }
  messages(): string[] {
    return this.lines.map((line) => line.message);
  }
}
