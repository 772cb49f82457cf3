import { randomUUID } from 'node:crypto';
import type { Logger } from '@application/ports/logger';
import type { CheckOutcome, CheckPlace, SecretAttempts } from '@application/ports/secret-attempts';
import { IN_FLIGHT_TTL_SECONDS, SECRET_ATTEMPTS_MEMORY_SECONDS } from '../lockout-rules';
import { RedisScript, type RedisClient } from './redis-connection';
import type { RedisKeys } from './redis-keys';

const WARN_EVERY_MS = 60_000;
/** The owed resets kept per instance (RedisSecretAttempts.owedResets). */
const MAX_OWED_RESETS = 10_000;

/*
 * Two keys per subject, in one hash slot (the digest is the {hash tag}): KEYS[1] the consecutive failures,
 * KEYS[2] a sorted set of the checks in flight, one random member each, scored by when it stops holding its place
 * (ms, by Redis's clock: TIME, never a caller's, so an instance whose clock runs ahead does not drop the others' places;
 * until a review of clocks it took the app's `now`). Each read-decide-write is one script, so concurrent checks on
 * every instance take places exactly once.
 */
/** Reply {admitted 1|0, failures}. */
const BEGIN = new RedisScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', string.format('%.0f', now))
local failures = tonumber(redis.call('GET', KEYS[1]) or '0')
if failures + redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[1]) then return {0, failures} end
redis.call('ZADD', KEYS[2], string.format('%.0f', now + tonumber(ARGV[2])), ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return {1, failures}
`);

/** ARGV[1]: right | wrong | none. Reply: the failures after it. */
const END = new RedisScript(`
redis.call('ZPOPMIN', KEYS[2])
if ARGV[1] == 'right' then
  redis.call('DEL', KEYS[1])
  return 0
end
if ARGV[1] == 'wrong' then
  local failures = redis.call('INCR', KEYS[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return failures
end
return tonumber(redis.call('GET', KEYS[1]) or '0')
`);

/**
 * While Redis cannot be reached, the checks are counted in this process (like the lockout and the rate limits)
 * rather than failing the request or going uncounted.
 */
export class RedisSecretAttempts implements SecretAttempts {
  private warnedAt = 0;
  /**
   * Subjects whose reset did not reach Redis (a blip): cleared before their next check on this instance. Until a
   * review of stop 60 the failures stayed at the limit for SECRET_ATTEMPTS_MEMORY_SECONDS, so the owner's next check,
   * the right password too, was refused as one more at the limit, and ended every session (the fresh one) again.
   */
  private readonly owedResets = new Set<string>();

  constructor(
    private readonly client: RedisClient,
    private readonly keyspace: RedisKeys,
    private readonly local: SecretAttempts,
    private readonly logger: Logger,
    private readonly memorySeconds = SECRET_ATTEMPTS_MEMORY_SECONDS,
    private readonly inFlightTtlSeconds = IN_FLIGHT_TTL_SECONDS,
  ) {}

  async begin(subject: string, limit: number, now: Date): Promise<CheckPlace> {
    // `now` is for the per-process count of an outage only: in Redis, Redis's clock decides.
    const args = [String(limit), String(this.inFlightTtlSeconds * 1000), randomUUID()];
    try {
      if (this.owedResets.has(subject)) {
        await this.client.del(this.keys(subject)[0]);
        this.owedResets.delete(subject);
      }
      const [admitted, failures] = (await BEGIN.run(this.client, this.keys(subject), args)) as [number, number];
      return { admitted: Number(admitted) === 1, failures: Number(failures) };
    } catch (error) {
      this.warn(error);
      return this.local.begin(subject, limit, now);
    }
  }

  async end(subject: string, outcome: CheckOutcome, now: Date): Promise<number> {
    try {
      return Number(await END.run(this.client, this.keys(subject), [outcome, String(this.memorySeconds * 1000)]));
    } catch (error) {
      this.warn(error);
      return this.local.end(subject, outcome, now);
    }
  }

  async reset(subject: string): Promise<void> {
    await this.local.reset(subject);
    try {
      // The failures only: the checks in flight keep their places until they end.
      await this.client.del(this.keys(subject)[0]);
      this.owedResets.delete(subject);
    } catch (error) {
      this.warn(error);
      // Bounded: past the cap the oldest owed reset is given up (its failures expire with their memory).
      if (this.owedResets.size >= MAX_OWED_RESETS) this.owedResets.delete(this.owedResets.values().next().value!);
      this.owedResets.add(subject);
    }
  }

  private warn(error: unknown): void {
    if (Date.now() - this.warnedAt < WARN_EVERY_MS) return;
    this.warnedAt = Date.now();
    this.logger.warn({ err: error }, 'redis unavailable: current-password checks counted in this instance only');
  }

  private keys(subject: string): [string, string] {
    return secretAttemptsKeys(this.keyspace, subject);
  }
}

/** The subject's two keys (failures, checks in flight), in one Cluster hash slot: the digest is the `{hash tag}`. */
export function secretAttemptsKeys(keys: RedisKeys, subject: string): [string, string] {
  const tag = `{${keys.digest(subject)}}`;
  return [`${keys.prefix}attempts:${tag}`, `${keys.prefix}attempts-inflight:${tag}`];
}
