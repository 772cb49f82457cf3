import { createHash } from 'node:crypto';
import { RedisKeys } from '@infrastructure/cache/redis/redis-keys';
import { lockoutKeys } from '@infrastructure/cache/redis/redis-login-lockout';

const KEY = Buffer.alloc(32, 3);
const plainDigest = (value: string) => createHash('sha256').update(value).digest('base64url').slice(0, 32);

describe('Redis key digests (an outside review: the key space held plain SHA-256 digests of email addresses)', () => {
  it('are keyed: no plain SHA-256 of the identifier, another encryption key gives others, the same key the same', () => {
    const keys = RedisKeys.derive('auth:', KEY);
    const email = 'alice@example.com';
    expect(keys.digest(email)).not.toBe(plainDigest(email));
    expect(lockoutKeys(keys, email).join(' ')).not.toContain(plainDigest(email));
    expect(keys.digest(email)).toBe(RedisKeys.derive('other:', KEY).digest(email)); // every instance agrees
    expect(keys.digest(email)).not.toBe(RedisKeys.derive('auth:', Buffer.alloc(32, 4)).digest(email));
    expect(keys.digest(email)).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(keys.digest('bob@example.com')).not.toBe(keys.digest(email));
  });

  it('under() extends the prefix and keeps the digests', () => {
    const keys = RedisKeys.derive('auth:', KEY);
    const mfa = keys.under('mfa:');
    expect(mfa.prefix).toBe('auth:mfa:');
    expect(mfa.digest('u1')).toBe(keys.digest('u1'));
    expect(lockoutKeys(mfa, 'u1')[0]).toBe(`auth:mfa:lockout:{${keys.digest('u1')}}`);
  });
});
