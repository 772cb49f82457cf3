import type { Clock } from '@application/ports/clock';
import type { Logger } from '@application/ports/logger';
import type { FailureOutcome, LockoutState, LoginLockout } from '@application/ports/login-lockout';
import type { OwedClears } from './redis-login-lockout';

const WARN_EVERY_MS = 60_000;

/** At most this many identifiers owed a clear are remembered (the oldest are dropped first). */
const MAX_OWED = 10_000;

/**
 * The shared lockout, and this instance's own counters while the shared store cannot be reached: logins keep
 * working and keep being limited (per instance, like the rate limits) instead of failing or skipping the check.
 * A clear that could not reach the shared store (an admin unlock, a password reset, a successful login during
 * the outage) is owed to it and paid before the next call that reaches it, so a lock cleared meanwhile does not
 * come back with the store. Owed clears live in this process only (a restart during the outage loses them).
 * A clear is owed as of when it was asked for, and paid only if no failure was recorded in the store since: the
 * store came back before this instance's next call, and another instance counted failures (or locked the
 * identifier) in between, which the clear must not wipe (until stop 34 it did, handing a guesser a fresh count at
 * the base duration; an outside review found it).
 * A lock this instance set during an outage holds until it ends, the shared store back or not (until 2026-12-03 the
 * shared store's answer alone counted once it was back: a lock set during a stall ended when Redis answered again,
 * and the guesser went on at once with a fresh count; an outside review found it). Failures counted here below the
 * threshold are not carried over to the shared store.
 */
export class FallbackLoginLockout implements LoginLockout {
  private warnedAt = 0;
  /** Identifier -> when its clear was asked for (the clock the stores are given). */
  private readonly owed = new Map<string, Date>();
  private paying: Promise<void> | null = null;

  constructor(
    private readonly shared: LoginLockout & OwedClears,
    private readonly local: LoginLockout,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {}

  async state(identifier: string, now: Date): Promise<LockoutState> {
    const outage = await this.outageLock(identifier, now);
    if (outage) return outage;
    const { value, shared } = await this.either((l) => l.state(identifier, now));
    return value.locked || shared ? value : { locked: false, unconfirmed: true };
  }

  /** A lock from the outage refuses before the shared store is asked: it reserves no place there. */
  async reserve(identifier: string, now: Date): Promise<LockoutState> {
    return (await this.outageLock(identifier, now)) ?? (await this.either((l) => l.reserve(identifier, now))).value;
  }

  /** An attempt reserved in one store and ended in the other leaves a place taken there until its TTL. */
  recordFailure(identifier: string, now: Date): Promise<FailureOutcome> {
    return this.either((l) => l.recordFailure(identifier, now)).then((r) => r.value);
  }

  async succeed(identifier: string, now: Date): Promise<LockoutState> {
    const { value: outcome, shared } = await this.either((l) => l.succeed(identifier, now));
    if (outcome.locked) return outcome;
    // Failures this instance counted during an outage are forgotten too, as clear() does.
    await this.local.clear(identifier);
    if (!shared) this.owe(identifier);
    return outcome;
  }

  release(identifier: string): Promise<void> {
    return this.either((l) => l.release(identifier)).then((r) => r.value);
  }

  async clear(identifier: string): Promise<void> {
    await this.local.clear(identifier);
    const { shared } = await this.either((l) => l.clear(identifier));
    if (!shared) this.owe(identifier);
  }

  /** A lock this instance's own counters hold (set while the shared store was away), or null. */
  private async outageLock(identifier: string, now: Date): Promise<LockoutState | null> {
    const local = await this.local.state(identifier, now);
    return local.locked ? local : null;
  }

  /** How many clears wait for the shared store (for tests and the log). */
  get owedClears(): number {
    return this.owed.size;
  }

  private owe(identifier: string): void {
    this.owed.delete(identifier);
    this.owed.set(identifier, this.clock.now());
    if (this.owed.size > MAX_OWED) this.owed.delete(this.owed.keys().next().value as string);
  }

  /** Pays the owed clears, one payer at a time; stops at the first that fails (the store is still away). */
  private payOwed(): Promise<void> {
    this.paying ??= (async () => {
      try {
        for (const [identifier, owedAt] of [...this.owed]) {
          await this.shared.clearUnlessFailedSince(identifier, owedAt);
          // Owed again meanwhile (a newer clear): that one stays owed.
          if (this.owed.get(identifier) === owedAt) this.owed.delete(identifier);
        }
      } catch {
        // Still unreachable: the rest stays owed.
      } finally {
        this.paying = null;
      }
    })();
    return this.paying;
  }

  private async either<T>(call: (lockout: LoginLockout) => Promise<T>): Promise<{ value: T; shared: boolean }> {
    try {
      if (this.owed.size > 0) await this.payOwed();
      return { value: await call(this.shared), shared: true };
    } catch (error) {
      if (Date.now() - this.warnedAt > WARN_EVERY_MS) {
        this.warnedAt = Date.now();
        this.logger.warn({ err: error }, 'redis unavailable: login lockout counted in this instance only');
      }
      return { value: await call(this.local), shared: false };
    }
  }
}
