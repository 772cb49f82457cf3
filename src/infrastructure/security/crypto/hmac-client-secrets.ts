import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ClientSecrets } from '@application/ports/client-secrets';

const SECRET_BYTES = 32;
const PREFIX = 'hmac-sha256.v1.';
/** Longer presented secrets are refused before any work (ours are 43 characters). */
const MAX_SECRET_LENGTH = 512;

/**
 * HMAC-SHA256 under a key derived (HKDF) from the service's encryption key, for its own purpose only: the
 * digest cannot be checked without the key, and the key itself is never used for two things. New digests are
 * made under the current ENCRYPTION_KEY; a secret matches under it or any of ENCRYPTION_KEYS_PREVIOUS (a digest
 * names no key, and the secret cannot be digested again without the client presenting it), so a client keeps
 * working across a key change until its previous key is dropped: give clients new secrets (rotate-client-secret)
 * before that.
 */
export class HmacClientSecrets implements ClientSecrets {
  private readonly keys: readonly Buffer[];
  private readonly dummy: Buffer;

  constructor(encryptionKey: Buffer, previous: readonly Buffer[] = []) {
    this.keys = [encryptionKey, ...previous].map((key) => Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'auth-service client secret digest v1', 32)));
    this.dummy = this.digest(this.keys[0] as Buffer, randomBytes(SECRET_BYTES).toString('base64url'));
  }

  create(): { secret: string; hash: string } {
    const secret = randomBytes(SECRET_BYTES).toString('base64url');
    return { secret, hash: PREFIX + this.digest(this.keys[0] as Buffer, secret).toString('base64url') };
  }

  matches(secret: string, hash: string | null): boolean {
    const text = typeof secret === 'string' && secret.length <= MAX_SECRET_LENGTH ? secret : '';
    const stored = hash !== null && hash.startsWith(PREFIX) ? Buffer.from(hash.slice(PREFIX.length), 'base64url') : null;
    const known = stored !== null && stored.length === this.dummy.length;
    // Every key is tried, whatever matched: the same work for every answer. The dummy stands in for an unknown
    // client or a malformed stored value.
    let equal = false;
    for (const key of this.keys) equal = timingSafeEqual(this.digest(key, text), known ? stored : this.dummy) || equal;
    return equal && known && typeof secret === 'string' && secret.length > 0 && secret.length <= MAX_SECRET_LENGTH;
  }

  private digest(key: Buffer, secret: string): Buffer {
    return createHmac('sha256', key).update(secret, 'utf8').digest();
  }
}
