import type { FailureOutcome, LockoutPolicy, LockoutState, LoginLockout } from '@application/ports/login-lockout';
import { LOCKOUT_MEMORY_SECONDS } from '../lockout-rules';
import { keyDigest, RedisScript, type RedisClient } from './redis-connection';

/**
 * One hash per identifier: f = consecutive failures, n = locks so far, u = locked until (ms). The whole
 * read-decide-write runs in one script, so concurrent failures on several instances count exactly once each.
 * Same rules as lockout-rules.ts (lock length: base * 2^n capped; memory: 24 h after the last failure or lock).
 */
const RECORD_FAILURE = new RedisScript(`
local now = tonumber(ARGV[1])
local lockedUntil = tonumber(redis.call('HGET', KEYS[1], 'u') or '0')
if lockedUntil > now then return {0, 0} end
local memory = tonumber(ARGV[5])
local failures = redis.call('HINCRBY', KEYS[1], 'f', 1)
if failures < tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[1], memory)
  return {0, 0}
end
local locks = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
local seconds = math.min(tonumber(ARGV[3]) * 2 ^ math.min(locks, 30), tonumber(ARGV[4]))
local untilMs = now + seconds * 1000
redis.call('HSET', KEYS[1], 'f', 0, 'n', locks + 1, 'u', string.format('%.0f', untilMs))
redis.call('PEXPIRE', KEYS[1], string.format('%.0f', seconds * 1000 + memory))
return {1, seconds}
`);

export class RedisLoginLockout implements LoginLockout {
  constructor(
    private readonly client: RedisClient,
    private readonly keyPrefix: string,
    private readonly policy: LockoutPolicy,
  ) {}

  async state(identifier: string, now: Date): Promise<LockoutState> {
    const lockedUntil = Number((await this.client.hGet(this.key(identifier), 'u')) ?? 0);
    const remainingMs = lockedUntil - now.getTime();
    return remainingMs > 0 ? { locked: true, retryAfterSeconds: Math.ceil(remainingMs / 1000) } : { locked: false };
  }

  async recordFailure(identifier: string, now: Date): Promise<FailureOutcome> {
    const reply = (await RECORD_FAILURE.run(this.client, [this.key(identifier)], [
      String(now.getTime()),
      String(this.policy.threshold),
      String(this.policy.baseSeconds),
      String(this.policy.maxSeconds),
      String(LOCKOUT_MEMORY_SECONDS * 1000),
    ])) as [number, number];
    return { lockedNow: Number(reply[0]) === 1, lockSeconds: Number(reply[1]) };
  }

  async clear(identifier: string): Promise<void> {
    await this.client.del(this.key(identifier));
  }

  private key(identifier: string): string {
    return `${this.keyPrefix}lockout:${keyDigest(identifier)}`;
  }
}
