import { createHash } from 'node:crypto';

/**
 * The key an in-memory adapter files an identifier under: its SHA-256 digest (43 characters), as the Redis adapters
 * file theirs under an HMAC digest. An identifier is what a caller typed (an email address or username, up to 254
 * UTF-16 units before NFKC, which can make one character eighteen), and an entry lives for up to a day: kept as it
 * was, one failed login with a crafted identifier held about 9 KB of the embedded service's heap, and 100 of them per
 * IP address every 5 minutes held some 260 MB per address (an outside review, 2026-12-07).
 */
export function memoryKey(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}
