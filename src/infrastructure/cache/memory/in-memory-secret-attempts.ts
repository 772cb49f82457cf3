import type { SecretAttempts } from '@application/ports/secret-attempts';
import { SECRET_ATTEMPTS_MEMORY_SECONDS } from '../lockout-rules';

/** Check counters in process memory (embedded mode, and the per-process fallback while Redis is down). */
export class InMemorySecretAttempts implements SecretAttempts {
  private readonly counts = new Map<string, { count: number; forgetAt: number }>();
  private writes = 0;

  constructor(private readonly memorySeconds = SECRET_ATTEMPTS_MEMORY_SECONDS) {}

  async begin(subject: string, now: Date): Promise<number> {
    const at = now.getTime();
    // Now and then drops every forgotten counter (bounded memory).
    if (++this.writes % 1000 === 0) for (const [key, entry] of [...this.counts]) if (entry.forgetAt <= at) this.counts.delete(key);
    const entry = this.counts.get(subject);
    const count = entry && entry.forgetAt > at ? entry.count + 1 : 1;
    this.counts.set(subject, { count, forgetAt: at + this.memorySeconds * 1000 });
    return count;
  }

  async reset(subject: string): Promise<void> {
    this.counts.delete(subject);
  }
}
