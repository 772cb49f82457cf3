import { createClient } from 'redis';
import type { AppConfig } from '@config/env';

/**
 * One key moved `ARGV[1]` ms into the past: the times it holds (a lockout hash's lock end `u` and last failure `w`, an
 * in-flight set's scores) and its expiry. Afterwards Redis's clock stands `ms` later relative to that key, which is
 * what that much waiting would have done.
 */
const ELAPSE = `
local ms = tonumber(ARGV[1])
local key = KEYS[1]
local kind = redis.call('TYPE', key)['ok']
if kind == 'hash' then
  for _, field in ipairs({'u', 'w'}) do
    local value = redis.call('HGET', key, field)
    if value then redis.call('HSET', key, field, string.format('%.0f', tonumber(value) - ms)) end
  end
elseif kind == 'zset' then
  local entries = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
  for i = 1, #entries, 2 do redis.call('ZADD', key, string.format('%.0f', tonumber(entries[i + 1]) - ms), entries[i]) end
end
local pttl = redis.call('PTTL', key)
if pttl > 0 then
  if pttl <= ms then redis.call('DEL', key) else redis.call('PEXPIRE', key, pttl - ms) end
end
return 1
`;

/**
 * The passing of `ms` for the lockout and current-password keys of a test. Their scripts take the time from Redis
 * (TIME), not from the caller's `now`, so a test's ManualClock no longer moves them: where a test advances its clock
 * to end a lock or free a place, it moves these keys' times back by as much on the Redis side (as shortening a TTL
 * stands in for waiting in the session-cache tests). `keys`: the keys themselves, or every lockout and
 * current-password key under a prefix (the second factor's `mfa:` ones too).
 */
export async function elapseRedisClock(url: string, ms: number, keys: string[] | { prefix: string }): Promise<void> {
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    let targets: string[] = [];
    if (Array.isArray(keys)) targets = keys;
    else for await (const batch of client.scanIterator({ MATCH: `${keys.prefix}*`, COUNT: 500 })) targets.push(...batch);
    targets = targets.filter((key) => /(^|:)(lockout|lockout-inflight|attempts|attempts-inflight):\{/.test(key));
    for (const key of targets) await client.eval(ELAPSE, { keys: [key], arguments: [String(ms)] });
  } finally {
    await client.close();
  }
}

/** For a whole app (startSecureApp): `seconds` pass for every lockout of its Redis prefix; nothing in embedded mode. */
export async function elapseAppLockouts(app: { config: AppConfig }, seconds: number): Promise<void> {
  if (app.config.redisUrl === null) return;
  await elapseRedisClock(app.config.redisUrl, seconds * 1000, { prefix: app.config.abuse.redisKeyPrefix });
}
