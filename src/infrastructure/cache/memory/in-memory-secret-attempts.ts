import type { CheckOutcome, CheckPlace, SecretAttempts } from '@application/ports/secret-attempts';
import { IN_FLIGHT_TTL_SECONDS, SECRET_ATTEMPTS_MEMORY_SECONDS } from '../lockout-rules';

interface Entry {
  failures: number;
  /** When each check in flight stops holding its place (ms), oldest first. */
  inFlight: number[];
  forgetAt: number;
}

/** Check places and failures in process memory (embedded mode, and the per-process fallback while Redis is down). */
export class InMemorySecretAttempts implements SecretAttempts {
  private readonly entries = new Map<string, Entry>();
  private writes = 0;

  constructor(
    private readonly memorySeconds = SECRET_ATTEMPTS_MEMORY_SECONDS,
    private readonly inFlightTtlSeconds = IN_FLIGHT_TTL_SECONDS,
  ) {}

  async begin(subject: string, limit: number, now: Date): Promise<CheckPlace> {
    const at = now.getTime();
    const entry = this.entry(subject, at);
    entry.inFlight = entry.inFlight.filter((until) => until > at);
    if (entry.failures + entry.inFlight.length >= limit) return { admitted: false, failures: entry.failures };
    const until = at + this.inFlightTtlSeconds * 1000;
    entry.inFlight.push(until);
    entry.forgetAt = Math.max(entry.forgetAt, until);
    return { admitted: true, failures: entry.failures };
  }

  async end(subject: string, outcome: CheckOutcome, now: Date): Promise<number> {
    const at = now.getTime();
    const entry = this.entry(subject, at);
    entry.inFlight.shift();
    if (outcome === 'right') entry.failures = 0;
    if (outcome === 'wrong') {
      entry.failures += 1;
      entry.forgetAt = Math.max(entry.forgetAt, at + this.memorySeconds * 1000);
    }
    return entry.failures;
  }

  /** The failures only: the checks in flight keep their places until they end. */
  async reset(subject: string): Promise<void> {
    const entry = this.entries.get(subject);
    if (entry) entry.failures = 0;
  }

  private entry(subject: string, at: number): Entry {
    // Now and then drops every forgotten entry (bounded memory).
    if (++this.writes % 1000 === 0) for (const [key, entry] of [...this.entries]) if (entry.forgetAt <= at) this.entries.delete(key);
    const current = this.entries.get(subject);
    if (current && current.forgetAt > at) return current;
    const fresh: Entry = { failures: 0, inFlight: [], forgetAt: at };
    this.entries.set(subject, fresh);
    return fresh;
  }
}
