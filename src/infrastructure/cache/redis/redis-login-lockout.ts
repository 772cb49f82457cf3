import { randomUUID } from 'node:crypto';
import {
  IN_FLIGHT_RETRY_AFTER_SECONDS,
  type FailureOutcome,
  type LockoutPolicy,
  type LockoutState,
  type LoginLockout,
} from '@application/ports/login-lockout';
import { IN_FLIGHT_TTL_SECONDS, LOCKOUT_MEMORY_SECONDS } from '../lockout-rules';
import { RedisScript, type RedisClient } from './redis-connection';
import type { RedisKeys } from './redis-keys';

/** Redis's own clock, in ms: every instance's script reads the same one (allowed in scripts: effects replication). */
const REDIS_NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/*
 * Two keys per identifier. KEYS[1], a hash: f = consecutive failures, n = locks so far, u = locked until (ms),
 * w = when a failure was last recorded (ms: what a clear owed since an outage is weighed by). KEYS[2], a sorted set of
 * the attempts in flight: one random member each, scored by when it stops holding its place (ms). Every time here is
 * Redis's (TIME), never a caller's: until a review of clocks the scripts took the app's `now`, and an instance whose
 * clock ran 30 s ahead dropped the others' places (twice the threshold of guesses at once), ended their locks early
 * and misplaced owed clears. Every read-decide-write runs in one script, so concurrent attempts on several instances
 * count exactly once each. Same rules as lockout-rules.ts (lock length: base * 2^n capped; memory: 24 h after the
 * last failure or lock). Ending an attempt pops the one closest to expiry (ZPOPMIN): they are interchangeable, and
 * the count is what matters.
 */
const RECORD_FAILURE = new RedisScript(`
redis.call('ZPOPMIN', KEYS[2])
${REDIS_NOW}
local lockedUntil = tonumber(redis.call('HGET', KEYS[1], 'u') or '0')
if lockedUntil > now then return {0, 0} end
local memory = tonumber(ARGV[4])
redis.call('HSET', KEYS[1], 'w', string.format('%.0f', now))
local failures = redis.call('HINCRBY', KEYS[1], 'f', 1)
if failures < tonumber(ARGV[1]) then
  redis.call('PEXPIRE', KEYS[1], memory)
  return {0, 0}
end
local locks = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
local seconds = math.min(tonumber(ARGV[2]) * 2 ^ math.min(locks, 30), tonumber(ARGV[3]))
local untilMs = now + seconds * 1000
redis.call('HSET', KEYS[1], 'f', 0, 'n', locks + 1, 'u', string.format('%.0f', untilMs))
redis.call('PEXPIRE', KEYS[1], string.format('%.0f', seconds * 1000 + memory))
return {1, seconds}
`);

/** Reply {0} = reserved; {1, ms} = locked for ms more; {2} = refused, the places are taken by attempts in flight. */
const RESERVE = new RedisScript(`
${REDIS_NOW}
local lockedUntil = tonumber(redis.call('HGET', KEYS[1], 'u') or '0')
if lockedUntil > now then return {1, lockedUntil - now} end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', string.format('%.0f', now))
-- Failures counted under a higher threshold (LOCKOUT_THRESHOLD lowered, or an instance configured otherwise) count
-- as one short of this one: the next failure locks, and the right password still gets through.
local failures = math.min(tonumber(redis.call('HGET', KEYS[1], 'f') or '0'), tonumber(ARGV[1]) - 1)
if failures + redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[1]) then return {2} end
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[2], string.format('%.0f', now + ttl), ARGV[3])
if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
return {0}
`);

/** Reply 0 = cleared; else the lock's remaining ms (the identifier locked while the password was checked). */
const SUCCEED = new RedisScript(`
redis.call('ZPOPMIN', KEYS[2])
${REDIS_NOW}
local remaining = tonumber(redis.call('HGET', KEYS[1], 'u') or '0') - now
if remaining > 0 then return remaining end
redis.call('DEL', KEYS[1], KEYS[2])
return 0
`);

/** Reply {the lock's remaining ms (0 or less: not locked), locks so far}. Reads only. */
const LOCK_LEFT = new RedisScript(`
${REDIS_NOW}
local state = redis.call('HMGET', KEYS[1], 'u', 'n')
return {tonumber(state[1] or '0') - now, tonumber(state[2] or '0')}
`);

/**
 * A clear owed since an outage (see FallbackLoginLockout): done unless a failure was recorded after it was owed, which
 * only an instance that reached the store since can have done. ARGV[1]: how long ago it was owed (ms, measured on the
 * owing instance's own clock, so its offset from the others' does not count), placed on Redis's clock here.
 * Reply 1 = cleared, 0 = left as it is.
 */
const CLEAR_UNLESS_FAILED_SINCE = new RedisScript(`
${REDIS_NOW}
local w = tonumber(redis.call('HGET', KEYS[1], 'w') or '0')
if w > now - tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
`);

/**
 * A store that can weigh a clear owed since `owedAt` against the failures recorded after it. `now`: the same clock as
 * `owedAt` (the owing instance's), read now: only the time between the two counts, not that clock's offset.
 */
export interface OwedClears {
  clearUnlessFailedSince(identifier: string, owedAt: Date, now: Date): Promise<boolean>;
}

/**
 * A lock the store holds: when it ends (ms, by the caller's clock: now + what remains of it by the store's clock) and
 * the identifier's locks so far (its repeat count).
 */
export interface HeldLock {
  until: number;
  locks: number;
}

/** A store that can tell the lock it holds, for a copy kept through an outage (see FallbackLoginLockout). */
export interface HeldLocks {
  /** The identifier's lock, or null when it is not locked (by the store's clock); `now`: the caller's, for `until`. */
  heldLock(identifier: string, now: Date): Promise<HeldLock | null>;
}

/**
 * The ports' `now` is not read here: Redis's clock decides (see the scripts). A lock's remainder and an attempt's
 * place are the same for every instance, whatever its clock.
 */
export class RedisLoginLockout implements LoginLockout, OwedClears, HeldLocks {
  constructor(
    private readonly client: RedisClient,
    private readonly keyspace: RedisKeys,
    private readonly policy: LockoutPolicy,
    private readonly inFlightTtlSeconds = IN_FLIGHT_TTL_SECONDS,
  ) {}

  async state(identifier: string, _now: Date): Promise<LockoutState> {
    return lockedFor((await this.lockLeft(identifier))[0]);
  }

  async reserve(identifier: string, _now: Date): Promise<LockoutState> {
    const reply = (await RESERVE.run(this.client, this.keys(identifier), [
      String(this.policy.threshold),
      String(this.inFlightTtlSeconds * 1000),
      randomUUID(),
    ])) as number[];
    if (Number(reply[0]) === 2) return { locked: true, retryAfterSeconds: IN_FLIGHT_RETRY_AFTER_SECONDS, inFlight: true };
    return Number(reply[0]) === 1 ? lockedFor(Number(reply[1])) : { locked: false };
  }

  async recordFailure(identifier: string, _now: Date): Promise<FailureOutcome> {
    const reply = (await RECORD_FAILURE.run(this.client, this.keys(identifier), [
      String(this.policy.threshold),
      String(this.policy.baseSeconds),
      String(this.policy.maxSeconds),
      String(LOCKOUT_MEMORY_SECONDS * 1000),
    ])) as [number, number];
    return { lockedNow: Number(reply[0]) === 1, lockSeconds: Number(reply[1]) };
  }

  async succeed(identifier: string, _now: Date): Promise<LockoutState> {
    const remainingMs = await SUCCEED.run(this.client, this.keys(identifier), []);
    return lockedFor(Number(remainingMs));
  }

  async release(identifier: string): Promise<void> {
    await this.client.zPopMin(this.inFlightKey(identifier));
  }

  async clear(identifier: string): Promise<void> {
    await this.client.del(this.keys(identifier));
  }

  async clearUnlessFailedSince(identifier: string, owedAt: Date, now: Date): Promise<boolean> {
    const ageMs = Math.max(0, now.getTime() - owedAt.getTime());
    return Number(await CLEAR_UNLESS_FAILED_SINCE.run(this.client, this.keys(identifier), [String(ageMs)])) === 1;
  }

  async heldLock(identifier: string, now: Date): Promise<HeldLock | null> {
    const [remainingMs, locks] = await this.lockLeft(identifier);
    return remainingMs > 0 ? { until: now.getTime() + remainingMs, locks } : null;
  }

  /** [the lock's remaining ms by Redis's clock (0 or less: none), locks so far]. */
  private async lockLeft(identifier: string): Promise<[number, number]> {
    const [remainingMs, locks] = (await LOCK_LEFT.run(this.client, [this.keys(identifier)[0]], [])) as [number, number];
    return [Number(remainingMs), Number(locks)];
  }

  private keys(identifier: string): [string, string] {
    return lockoutKeys(this.keyspace, identifier);
  }

  private inFlightKey(identifier: string): string {
    return this.keys(identifier)[1];
  }
}

/**
 * The identifier's two keys (state hash, attempts in flight). The scripts and `clear` touch both in one command,
 * so in a Redis Cluster they must live in one hash slot: the digest is the `{hash tag}`, the only part of the key
 * Cluster hashes (REDIS_KEY_PREFIX may not contain braces, so the tag is always this one).
 */
export function lockoutKeys(keys: RedisKeys, identifier: string): [string, string] {
  const tag = `{${keys.digest(identifier)}}`;
  return [`${keys.prefix}lockout:${tag}`, `${keys.prefix}lockout-inflight:${tag}`];
}

function lockedFor(remainingMs: number): LockoutState {
  return remainingMs > 0 ? { locked: true, retryAfterSeconds: Math.ceil(remainingMs / 1000) } : { locked: false };
}
