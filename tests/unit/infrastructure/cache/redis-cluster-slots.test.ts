import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '@config/env';
import { lockoutKeys } from '@infrastructure/cache/redis/redis-login-lockout';
import { secretAttemptsKeys } from '@infrastructure/cache/redis/redis-secret-attempts';
import { RedisKeys } from '@infrastructure/cache/redis/redis-keys';
import { crc16, hashSlot } from '../../../support/redis-hash-slot';

const testKeys = (prefix: string) => RedisKeys.derive(prefix, Buffer.alloc(32, 7));

const REDIS_ADAPTERS = join(__dirname, '../../../../src/infrastructure/cache/redis');

describe('Redis Cluster: the keys of one command share a hash slot', () => {
  it('the slot function agrees with the cluster spec and with CLUSTER KEYSLOT', () => {
    expect(crc16(Buffer.from('123456789'))).toBe(0x31c3); // the spec's check value
    // Answers of `CLUSTER KEYSLOT` from a cluster-enabled redis-server 7.
    expect(hashSlot('123456789')).toBe(12739);
    expect(hashSlot('somekey')).toBe(11058);
    expect(hashSlot('foo{hash_tag}')).toBe(2515);
    expect(hashSlot('auth:lockout:{abc}')).toBe(7638);
    expect(hashSlot('auth:mfa:lockout-inflight:{abc}')).toBe(7638);
    expect(hashSlot('{}somekey')).not.toBe(hashSlot('')); // an empty tag does not count: the whole key is hashed
  });

  it('both lockout keys of an identifier (the three scripts and DEL use them together) are in one slot, under every prefix', () => {
    const identifiers = ['ada@example.com', 'grace', 'ÜNICODE@example.org', '', 'x'.repeat(300)];
    const prefixes = ['auth:', 'auth:mfa:', 'test:0a1b2c3d4e5f:', 'tenant-7:auth:mfa:', ''];
    const seen = new Set<number>();
    for (const prefix of prefixes) {
      for (const identifier of identifiers) {
        const [state, inFlight] = lockoutKeys(testKeys(prefix), identifier);
        expect(state).not.toBe(inFlight);
        expect(hashSlot(state)).toBe(hashSlot(inFlight));
        seen.add(hashSlot(state));
      }
    }
    // Different identifiers spread over the slots: the tag is the identifier's digest, not a constant.
    expect(seen.size).toBeGreaterThan(1);
  });

  it('both keys of a current-password subject (failures, checks in flight) are in one slot, under every prefix', () => {
    const seen = new Set<number>();
    for (const prefix of ['auth:', 'test:0a1b2c3d4e5f:', '']) {
      for (let i = 0; i < 20; i += 1) {
        const [failures, inFlight] = secretAttemptsKeys(testKeys(prefix), `current-password:user-${i}`);
        expect(failures).not.toBe(inFlight);
        expect(hashSlot(failures)).toBe(hashSlot(inFlight));
        seen.add(hashSlot(failures));
      }
    }
    expect(seen.size).toBeGreaterThan(1);
  });

  it('the old key names (no hash tag) would have split them: the test can fail', () => {
    const digest = lockoutKeys(testKeys(''), 'ada@example.com')[0].replace(/^lockout:\{|\}$/g, '');
    expect(hashSlot(`auth:lockout:${digest}`)).not.toBe(hashSlot(`auth:lockout-inflight:${digest}`));
  });

  it('REDIS_KEY_PREFIX may not bring a hash tag of its own (it would replace the identifier\'s)', () => {
    expect(loadConfig({ REDIS_KEY_PREFIX: 'tenant-7:' }).abuse.redisKeyPrefix).toBe('tenant-7:');
    for (const prefix of ['{auth}:', 'auth{', 'auth}']) {
      expect(() => loadConfig({ REDIS_KEY_PREFIX: prefix })).toThrow(expect.objectContaining({ problems: [expect.stringContaining('REDIS_KEY_PREFIX')] }));
    }
  });

  it('only the lockout and current-password scripts touch more than one key: a new multi-key script must come with its own slot test', () => {
    const multiKey = readdirSync(REDIS_ADAPTERS)
      .filter((file) => file.endsWith('.ts'))
      .filter((file) => /KEYS\[[2-9]\]/.test(readFileSync(join(REDIS_ADAPTERS, file), 'utf8')));
    expect(multiKey).toEqual(['redis-login-lockout.ts', 'redis-secret-attempts.ts']);
  });
});
