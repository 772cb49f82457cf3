import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ClientSecrets } from '@application/ports/client-secrets';

const SECRET_BYTES = 32;
const PREFIX = 'hmac-sha256.v1.';
/** Longer presented secrets are refused before any work (ours are 43 characters). */
const MAX_SECRET_LENGTH = 512;

/**
 * HMAC-SHA256 under a key derived (HKDF) from the service's encryption key, for its own purpose only: the
 * digest cannot be checked without the key, and the key itself is never used for two things. Changing
 * ENCRYPTION_KEY therefore voids every client secret (documented: rotate-client-secret or re-create the clients).
 */
export class HmacClientSecrets implements ClientSecrets {
  private readonly key: Buffer;
  private readonly dummy: Buffer;

  constructor(encryptionKey: Buffer) {
    this.key = Buffer.from(hkdfSync('sha256', encryptionKey, Buffer.alloc(0), 'auth-service client secret digest v1', 32));
    this.dummy = this.digest(randomBytes(SECRET_BYTES).toString('base64url'));
  }

  create(): { secret: string; hash: string } {
    const secret = randomBytes(SECRET_BYTES).toString('base64url');
    return { secret, hash: PREFIX + this.digest(secret).toString('base64url') };
  }

  matches(secret: string, hash: string | null): boolean {
    const presented = this.digest(typeof secret === 'string' && secret.length <= MAX_SECRET_LENGTH ? secret : '');
    const stored = hash !== null && hash.startsWith(PREFIX) ? Buffer.from(hash.slice(PREFIX.length), 'base64url') : null;
    const known = stored !== null && stored.length === presented.length;
    // Same comparison either way; the dummy stands in for an unknown client or a malformed stored value.
    const equal = timingSafeEqual(presented, known ? stored : this.dummy);
    return equal && known && typeof secret === 'string' && secret.length > 0 && secret.length <= MAX_SECRET_LENGTH;
  }

  private digest(secret: string): Buffer {
    return createHmac('sha256', this.key).update(secret, 'utf8').digest();
  }
}
