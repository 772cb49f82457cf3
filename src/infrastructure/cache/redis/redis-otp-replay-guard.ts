import type { Logger } from '@application/ports/logger';
import type { OtpReplayGuard } from '@application/ports/otp-replay-guard';
import { OTP_REPLAY_TTL_SECONDS } from '../otp-replay-rules';
import type { RedisClient } from './redis-connection';
import type { RedisKeys } from './redis-keys';

const WARN_EVERY_MS = 60_000;

/**
 * One key per (user, secret, step), written with SET NX PX: of concurrent claims on every instance exactly one creates it.
 * While Redis cannot be reached, steps are claimed in this process (like the lockout and the attempt counters)
 * rather than refusing every second factor: a replay to another instance during the outage is the cost.
 */
export class RedisOtpReplayGuard implements OtpReplayGuard {
  private warnedAt = 0;

  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeys,
    private readonly local: OtpReplayGuard,
    private readonly logger: Logger,
    private readonly ttlSeconds = OTP_REPLAY_TTL_SECONDS,
  ) {}

  async claim(userId: string, factor: string, step: number): Promise<boolean> {
    try {
      const reply = await this.client.set(this.key(userId, factor, step), '1', { condition: 'NX', expiration: { type: 'PX', value: this.ttlSeconds * 1000 } });
      return reply === 'OK';
    } catch (error) {
      this.warn(error);
      return this.local.claim(userId, factor, step);
    }
  }

  /** Deletes the key (and the fallback's claim, made while Redis was down); an unreachable Redis lets it expire. */
  async release(userId: string, factor: string, step: number): Promise<void> {
    await this.local.release(userId, factor, step);
    try {
      await this.client.del(this.key(userId, factor, step));
    } catch (error) {
      this.warn(error);
    }
  }

  private warn(error: unknown): void {
    if (Date.now() - this.warnedAt < WARN_EVERY_MS) return;
    this.warnedAt = Date.now();
    this.logger.warn({ err: error }, 'redis unavailable: used one-time-password steps remembered in this instance only');
  }

  /**
   * Public for tests (expiry); the user id is digested like every other subject, the secret (sealed already) as
   * a keyed digest too: the key names which secret, never holds it.
   */
  key(userId: string, factor: string, step: number): string {
    return `${this.keys.prefix}otp-used:${this.keys.digest(userId)}:${this.keys.digest(factor).slice(0, 16)}:${step}`;
  }
}
