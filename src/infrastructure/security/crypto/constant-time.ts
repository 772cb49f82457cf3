import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares secrets without leaking where they differ. Both sides are hashed first so the inputs always
 * have equal length: timingSafeEqual throws on unequal lengths, and an early length check would leak it.
 */
export function safeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}
