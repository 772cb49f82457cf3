import { createHash, randomBytes } from 'node:crypto';
import type { OpaqueTokens } from '@application/ports/opaque-tokens';

/** CONTRACT §4: no opaque token below 128 bits. */
const MIN_BYTES = 16;

export class CryptoOpaqueTokens implements OpaqueTokens {
  create(bytes: number): { token: string; hash: string } {
    if (!Number.isInteger(bytes) || bytes < MIN_BYTES) {
      throw new Error(`Opaque tokens need at least ${MIN_BYTES} random bytes.`);
    }
    const token = randomBytes(bytes).toString('base64url');
    return { token, hash: this.hash(token) };
  }

  /**
   * Plain SHA-256, not a password hash: these tokens carry >= 128 bits from a CSPRNG, so a stolen digest
   * cannot be brute-forced however fast the hash is, and lookups on every refresh stay cheap. A salt is not
   * needed either: the digest must be deterministic to serve as the lookup key.
   */
  hash(token: string): string {
    return createHash('sha256').update(token, 'utf8').digest('hex');
  }
}
