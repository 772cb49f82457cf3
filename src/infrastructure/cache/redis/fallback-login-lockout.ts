import type { Logger } from '@application/ports/logger';
import type { FailureOutcome, LockoutState, LoginLockout } from '@application/ports/login-lockout';

const WARN_EVERY_MS = 60_000;

/**
 * The shared lockout, and this instance's own counters while the shared store cannot be reached: logins keep
 * working and keep being limited (per instance, like the rate limits) instead of failing or skipping the check.
 */
export class FallbackLoginLockout implements LoginLockout {
  private warnedAt = 0;

  constructor(
    private readonly shared: LoginLockout,
    private readonly local: LoginLockout,
    private readonly logger: Logger,
  ) {}

  state(identifier: string, now: Date): Promise<LockoutState> {
    return this.either((l) => l.state(identifier, now));
  }

  reserve(identifier: string, now: Date): Promise<LockoutState> {
    return this.either((l) => l.reserve(identifier, now));
  }

  /** An attempt reserved in one store and ended in the other leaves a place taken there until its TTL. */
  recordFailure(identifier: string, now: Date): Promise<FailureOutcome> {
    return this.either((l) => l.recordFailure(identifier, now));
  }

  async succeed(identifier: string, now: Date): Promise<LockoutState> {
    const outcome = await this.either((l) => l.succeed(identifier, now));
    // Failures this instance counted during an outage are forgotten too, as clear() does.
    if (!outcome.locked) await this.local.clear(identifier);
    return outcome;
  }

  release(identifier: string): Promise<void> {
    return this.either((l) => l.release(identifier));
  }

  async clear(identifier: string): Promise<void> {
    await Promise.all([this.local.clear(identifier), this.either((l) => l.clear(identifier))]);
  }

  private async either<T>(call: (lockout: LoginLockout) => Promise<T>): Promise<T> {
    try {
      return await call(this.shared);
    } catch (error) {
      if (Date.now() - this.warnedAt > WARN_EVERY_MS) {
        this.warnedAt = Date.now();
        this.logger.warn({ err: error }, 'redis unavailable: login lockout counted in this instance only');
      }
      return call(this.local);
    }
  }
}
