import type { Logger } from '@application/ports/logger';
import type { SecretAttempts } from '@application/ports/secret-attempts';
import { SECRET_ATTEMPTS_MEMORY_SECONDS } from '../lockout-rules';
import { keyDigest, type RedisClient } from './redis-connection';

const WARN_EVERY_MS = 60_000;

/**
 * One counter per subject (INCR and PEXPIRE in one MULTI: concurrent checks on every instance count once each).
 * While Redis cannot be reached, the checks are counted in this process (like the lockout and the rate limits)
 * rather than failing the request or going uncounted.
 */
export class RedisSecretAttempts implements SecretAttempts {
  private warnedAt = 0;

  constructor(
    private readonly client: RedisClient,
    private readonly keyPrefix: string,
    private readonly local: SecretAttempts,
    private readonly logger: Logger,
    private readonly memorySeconds = SECRET_ATTEMPTS_MEMORY_SECONDS,
  ) {}

  async begin(subject: string, now: Date): Promise<number> {
    try {
      const [count] = await this.client.multi().incr(this.key(subject)).pExpire(this.key(subject), this.memorySeconds * 1000).exec();
      return Number(count);
    } catch (error) {
      this.warn(error);
      return this.local.begin(subject, now);
    }
  }

  async reset(subject: string): Promise<void> {
    await this.local.reset(subject);
    try {
      await this.client.del(this.key(subject));
    } catch (error) {
      this.warn(error);
    }
  }

  private warn(error: unknown): void {
    if (Date.now() - this.warnedAt < WARN_EVERY_MS) return;
    this.warnedAt = Date.now();
    this.logger.warn({ err: error }, 'redis unavailable: current-password checks counted in this instance only');
  }

  private key(subject: string): string {
    return `${this.keyPrefix}attempts:${keyDigest(subject)}`;
  }
}
