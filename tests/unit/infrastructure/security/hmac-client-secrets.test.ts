import { randomBytes } from 'node:crypto';
import { HmacClientSecrets } from '@infrastructure/security/crypto/hmac-client-secrets';

describe('HmacClientSecrets', () => {
  const secrets = new HmacClientSecrets(randomBytes(32));

  it('creates 256-bit base64url secrets, stored only as a keyed digest', () => {
    const { secret, hash } = secrets.create();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(hash).toMatch(/^hmac-sha256\.v1\.[A-Za-z0-9_-]{43}$/);
    expect(hash).not.toContain(secret);
    expect(secrets.create().secret).not.toBe(secret);
  });

  it('matches the secret it was made from, and nothing else', () => {
    const { secret, hash } = secrets.create();
    expect(secrets.matches(secret, hash)).toBe(true);
    expect(secrets.matches(`${secret}x`, hash)).toBe(false);
    expect(secrets.matches(secret.slice(1), hash)).toBe(false);
    expect(secrets.matches('', hash)).toBe(false);
    expect(secrets.matches(secret, secrets.create().hash)).toBe(false);
  });

  it('under a keyring: a digest made under a previous key still matches; new digests are under the current key', () => {
    const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
    const before = new HmacClientSecrets(oldKey);
    const ring = new HmacClientSecrets(newKey, [oldKey]);
    const old = before.create();
    expect(ring.matches(old.secret, old.hash)).toBe(true);
    expect(ring.matches(`${old.secret}x`, old.hash)).toBe(false);
    expect(new HmacClientSecrets(newKey).matches(old.secret, old.hash)).toBe(false);
    const fresh = ring.create();
    expect(new HmacClientSecrets(newKey).matches(fresh.secret, fresh.hash)).toBe(true);
    expect(before.matches(fresh.secret, fresh.hash)).toBe(false);
    expect(ring.matches(old.secret, null)).toBe(false);
  });

  it('answers false for an unknown client (null digest), a malformed digest and an overlong secret, without throwing', () => {
    const { secret, hash } = secrets.create();
    expect(secrets.matches(secret, null)).toBe(false);
    expect(secrets.matches(secret, 'hmac-sha256.v1.short')).toBe(false);
    expect(secrets.matches(secret, hash.replace('v1', 'v2'))).toBe(false);
    expect(secrets.matches('x'.repeat(100_000), hash)).toBe(false);
  });

  it('depends on the key: another encryption key verifies no secret', () => {
    const { secret, hash } = secrets.create();
    expect(new HmacClientSecrets(randomBytes(32)).matches(secret, hash)).toBe(false);
  });
});
