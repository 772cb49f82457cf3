import type { Clock } from '@application/ports/clock';
import type { Logger } from '@application/ports/logger';
import type { FailureOutcome, LockoutState, LoginLockout } from '@application/ports/login-lockout';
import { LOCKOUT_MEMORY_SECONDS } from '../lockout-rules';
import { memoryKey } from '../memory/memory-key';
import type { HeldLock, HeldLocks, OwedClears } from './redis-login-lockout';

const WARN_EVERY_MS = 60_000;

/** At most this many identifiers owed a clear are remembered (the oldest are dropped first). */
const MAX_OWED = 10_000;

/** At most this many locks read from the shared store are copied (the least recently seen are dropped first). */
const MAX_COPIES = 10_000;

/** A local store that can take the shared store's repeat count (InMemoryLoginLockout). */
export interface CarriedLocks {
  carryLocks(identifier: string, locks: number, now: Date): Promise<void>;
}

/**
 * The shared lockout, and this instance's own counters while the shared store cannot be reached: logins keep
 * working and keep being limited (per instance, like the rate limits) instead of failing or skipping the check.
 * A clear that could not reach the shared store (an admin unlock, a password reset, a successful login during
 * the outage) is owed to it, paid before that identifier's next call that reaches it (the rest in the background), so
 * a lock cleared meanwhile does not come back with the store. Owed clears live in this process only (lost on restart).
 * A clear is owed as of when it was asked for, and paid only if no failure was recorded in the store since: the
 * store came back before this instance's next call, and another instance counted failures (or locked the
 * identifier) in between, which the clear must not wipe (until stop 34 it did, handing a guesser a fresh count at
 * the base duration; an outside review found it).
 * A lock this instance set during an outage holds until it ends, the shared store back or not (until 2026-12-03 the
 * shared store's answer alone counted once it was back: a lock set during a stall ended when Redis answered again,
 * and the guesser went on at once with a fresh count; an outside review found it). Failures counted here below the
 * threshold are not carried over to the shared store.
 * A lock the shared store answered (to a state, a reserve, a login, a failure) is copied here with its end and repeat
 * count, and refuses through an outage until it ends; the lock set here after it is as long as the shared store's
 * next would be. Until stop 52 an outage forgot it: a locked identifier (even at an escalated length) was unlocked
 * the moment Redis went away, the right password got in, a guesser had a fresh threshold on each instance, and the
 * lock set then was the base one (an outside review found it). A copy is only the shared store's answer kept for
 * an outage: while the store answers, its answer counts, and one that says unlocked (or a clear, a successful login)
 * drops the copy, so an unlock is not undone by it. A lift this instance has not seen (an unlock elsewhere just
 * before the outage) leaves the copy refusing here until its end.
 */
export class FallbackLoginLockout implements LoginLockout {
  private warnedAt = 0;
  /** Identifier -> when its clear was asked for (the clock the stores are given). */
  private readonly owed = new Map<string, Date>();
  private draining: Promise<void> | null = null;
  /**
   * An identifier's memoryKey -> the lock the shared store last answered for it, least recently seen first. Filed
   * under the digest, as the in-memory lockout files its entries: an identifier is what a caller typed, up to 4,470
   * units after NFKC, and 10,000 such keys held some 90 MB of a 112 MB heap (a review, 2026-12-07).
   */
  private readonly copies = new Map<string, HeldLock>();
  /** Clears so far; memoryKey -> the count at its last clear (the latest MAX_COPIES; `forgotten`: the last dropped). */
  private clears = 0;
  private forgotten = 0;
  private readonly clearedAt = new Map<string, number>();

  constructor(
    private readonly shared: LoginLockout & OwedClears & HeldLocks,
    private readonly local: LoginLockout & CarriedLocks,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {}

  async state(identifier: string, now: Date): Promise<LockoutState> {
    const outage = await this.outageLock(identifier, now);
    if (outage) return outage;
    const { value, shared, seen } = await this.either(
      identifier,
      (l) => l.state(identifier, now),
      async () => this.copiedLock(identifier, now) ?? this.local.state(identifier, now),
    );
    if (shared) await this.copy(identifier, value, now, seen);
    return value.locked || shared ? value : { locked: false, unconfirmed: true };
  }

  /** A lock from the outage refuses before the shared store is asked: it reserves no place there. */
  async reserve(identifier: string, now: Date): Promise<LockoutState> {
    const outage = await this.outageLock(identifier, now);
    if (outage) return outage;
    const { value, shared, seen } = await this.either(
      identifier,
      (l) => l.reserve(identifier, now),
      async () => this.copiedLock(identifier, now) ?? this.local.reserve(identifier, now),
    );
    if (shared) await this.copy(identifier, value, now, seen);
    return value;
  }

  /** An attempt reserved in one store and ended in the other leaves a place taken there until its TTL. */
  async recordFailure(identifier: string, now: Date): Promise<FailureOutcome> {
    const { value, shared, seen } = await this.either(
      identifier,
      (l) => l.recordFailure(identifier, now),
      () => this.localFailure(identifier, now),
    );
    if (shared && value.lockedNow) await this.copy(identifier, { locked: true, retryAfterSeconds: value.lockSeconds }, now, seen);
    return value;
  }

  async succeed(identifier: string, now: Date): Promise<LockoutState> {
    const { value: outcome, shared, seen } = await this.either(
      identifier,
      (l) => l.succeed(identifier, now),
      async () => {
        const copied = this.copiedLock(identifier, now);
        if (!copied) return this.local.succeed(identifier, now);
        await this.local.release(identifier);
        return copied;
      },
    );
    if (outcome.locked) {
      if (shared) await this.copy(identifier, outcome, now, seen);
      return outcome;
    }
    // Failures this instance counted during an outage are forgotten too, as clear() does, and so is a copied count.
    this.forgetCopy(identifier);
    await this.local.clear(identifier);
    if (!shared) this.owe(identifier);
    return outcome;
  }

  release(identifier: string): Promise<void> {
    return this.either(identifier, (l) => l.release(identifier)).then((r) => r.value);
  }

  async clear(identifier: string): Promise<void> {
    this.forgetCopy(identifier);
    await this.local.clear(identifier);
    const { shared } = await this.either(identifier, (l) => l.clear(identifier));
    this.forgetCopy(identifier);
    if (!shared) this.owe(identifier);
  }

  /** Drops the copy and any lock read before now (until stop 65 one read before an unlock was copied after it). */
  private forgetCopy(identifier: string): void {
    this.copies.delete(memoryKey(identifier));
    this.clearedAt.delete(memoryKey(identifier));
    this.clearedAt.set(memoryKey(identifier), ++this.clears);
    const [oldest, count] = this.clearedAt.entries().next().value as [string, number];
    if (this.clearedAt.size > MAX_COPIES && this.clearedAt.delete(oldest)) this.forgotten = count;
  }

  /** A lock this instance's own counters hold (set while the shared store was away), or null. */
  private async outageLock(identifier: string, now: Date): Promise<LockoutState | null> {
    const local = await this.local.state(identifier, now);
    return local.locked ? local : null;
  }

  /** The copied lock, if it still holds: what the shared store would answer, were it there. */
  private copiedLock(identifier: string, now: Date): LockoutState | null {
    const copy = this.copies.get(memoryKey(identifier));
    if (!copy) return null;
    const remainingMs = copy.until - now.getTime();
    if (remainingMs > 0) return { locked: true, retryAfterSeconds: Math.ceil(remainingMs / 1000) };
    // Its repeat count is remembered as long as the shared store remembers it.
    if (remainingMs + LOCKOUT_MEMORY_SECONDS * 1000 <= 0) this.copies.delete(memoryKey(identifier));
    return null;
  }

  /**
   * A failure in an outage: none is counted while a copied lock holds (the shared store counts none while locked);
   * after it, the local count starts from the copied repeat count, so its lock is the escalated one.
   */
  private async localFailure(identifier: string, now: Date): Promise<FailureOutcome> {
    if (this.copiedLock(identifier, now)) {
      await this.local.release(identifier);
      return { lockedNow: false, lockSeconds: 0 };
    }
    const copy = this.copies.get(memoryKey(identifier));
    if (copy) await this.local.carryLocks(identifier, copy.locks, now);
    return this.local.recordFailure(identifier, now);
  }

  /**
   * Keeps the shared store's answer for an outage: a lock (not a refusal for attempts in flight) is copied with its
   * end and repeat count, read once per lock (a refusal of the lock already copied costs no second read); an
   * answer of unlocked drops the copy. A lock read before a clear since `seen` (or one no longer known) is not kept.
   */
  private async copy(identifier: string, answer: LockoutState, now: Date, seen: number): Promise<void> {
    if (!answer.locked) {
      this.copies.delete(memoryKey(identifier));
      return;
    }
    if (answer.inFlight) return;
    const known = this.copies.get(memoryKey(identifier));
    const until = now.getTime() + answer.retryAfterSeconds * 1000;
    let held: HeldLock | null;
    if (known && known.until > now.getTime() && Math.abs(known.until - until) < 1000) {
      held = known;
    } else {
      try {
        held = await this.shared.heldLock(identifier, now);
      } catch {
        // Gone since it answered: the answer's end (rounded up to the second) and the count known so far.
        held = { until, locks: known?.locks ?? 0 };
      }
    }
    if ((this.clearedAt.get(memoryKey(identifier)) ?? this.forgotten) > seen) return;
    this.copies.delete(memoryKey(identifier));
    if (!held) return;
    this.copies.set(memoryKey(identifier), held);
    if (this.copies.size > MAX_COPIES) this.copies.delete(this.copies.keys().next().value as string);
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

  /** Pays the identifiers' owed clears (one owed again meanwhile stays owed); throws at the first that fails. */
  private async pay(identifiers: string[]): Promise<void> {
    for (const identifier of identifiers) {
      const owedAt = this.owed.get(identifier);
      if (owedAt) await this.shared.clearUnlessFailedSince(identifier, owedAt, this.clock.now());
      if (owedAt && this.owed.get(identifier) === owedAt) this.owed.delete(identifier);
    }
  }

  /** `outage`: what is done instead when the shared store cannot be reached (by default, the call on the local store). */
  private async either<T>(
    identifier: string,
    call: (lockout: LoginLockout) => Promise<T>,
    outage: () => Promise<T> = () => call(this.local),
  ): Promise<{ value: T; shared: boolean; seen: number }> {
    const seen = this.clears;
    try {
      await this.pay([identifier]);
      const value = await call(this.shared);
      // The rest in the background, one drain at a time (until stop 65 every call waited for them all, one by one).
      if (this.owed.size > 0) this.draining ??= this.pay([...this.owed.keys()]).catch(() => undefined).finally(() => (this.draining = null));
      return { value, shared: true, seen };
    } catch (error) {
      if (Date.now() - this.warnedAt > WARN_EVERY_MS) {
        this.warnedAt = Date.now();
        this.logger.warn({ err: error }, 'redis unavailable: login lockout counted in this instance only');
      }
      return { value: await outage(), shared: false, seen };
    }
  }
}
