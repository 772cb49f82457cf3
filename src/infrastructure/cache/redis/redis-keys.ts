import { createHmac, hkdfSync } from 'node:crypto';

/**
 * Key names under REDIS_KEY_PREFIX. Identifiers (emails, usernames, client IPs, user ids) appear in keys only as
 * keyed digests: HMAC-SHA256 under a key derived (HKDF) from the encryption key, for this purpose only. Whoever can
 * read the key space cannot match it against a guessed address without that key (with the plain SHA-256 used until
 * 2026-11-30 they could). Every instance derives the same key from the same ENCRYPTION_KEY, which instances that
 * share a database share anyway (it seals their signing keys).
 */
export class RedisKeys {
  private constructor(
    readonly prefix: string,
    private readonly secret: Buffer,
  ) {}

  static derive(prefix: string, encryptionKey: Buffer): RedisKeys {
    return new RedisKeys(prefix, Buffer.from(hkdfSync('sha256', encryptionKey, Buffer.alloc(0), 'auth-service redis key digest v1', 32)));
  }

  /** The same digests under a longer prefix: a key space apart (the second factor's lockout). */
  under(extra: string): RedisKeys {
    return new RedisKeys(this.prefix + extra, this.secret);
  }

  digest(value: string): string {
    return createHmac('sha256', this.secret).update(value).digest('base64url').slice(0, 32);
  }
}
