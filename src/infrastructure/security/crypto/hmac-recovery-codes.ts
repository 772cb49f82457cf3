import { createHmac, hkdfSync, randomInt } from 'node:crypto';
import type { RecoveryCodes } from '@application/ports/recovery-codes';

/** Crockford's base32 alphabet, lower case: no i, l, o, u (nothing to confuse when typed from paper). */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
/** 12 symbols of 5 bits: 60 bits per code, shown as three groups of four. */
const LENGTH = 12;
const GROUP = 4;

/**
 * Recovery codes with a keyed hash: HMAC-SHA-256 under a key derived (HKDF) from the service's encryption key
 * for this one purpose. Plain SHA-256 would let whoever copies the table try all 2^60 codes offline per user
 * far faster than a login could; with the key kept outside the database a stolen table tests nothing.
 * New codes are hashed under the current ENCRYPTION_KEY; a typed code is also hashed under each of
 * ENCRYPTION_KEYS_PREVIOUS (`candidates`), so codes issued before a key change keep working while the previous key
 * is listed. They cannot be hashed again without the user typing them: dropping the key voids them.
 */
export class HmacRecoveryCodes implements RecoveryCodes {
  private readonly keys: readonly Buffer[];

  constructor(encryptionKey: Buffer, previous: readonly Buffer[] = []) {
    if ([encryptionKey, ...previous].some((key) => key.length < 32)) throw new Error('HmacRecoveryCodes: the key must be at least 32 bytes');
    this.keys = [encryptionKey, ...previous].map((key) => Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'auth-service recovery codes v1', 32)));
  }

  generate(count: number): string[] {
    const codes = new Set<string>();
    while (codes.size < count) {
      let symbols = '';
      for (let i = 0; i < LENGTH; i++) symbols += ALPHABET[randomInt(ALPHABET.length)];
      codes.add(symbols.match(new RegExp(`.{${GROUP}}`, 'g'))!.join('-'));
    }
    return [...codes];
  }

  hash(code: string): string | null {
    return this.candidates(code)?.[0] ?? null;
  }

  candidates(code: string): string[] | null {
    const normalised = normalise(code);
    if (normalised === null) return null;
    return this.keys.map((key) => createHmac('sha256', key).update(normalised, 'utf8').digest('base64url'));
  }
}

/** Case, spaces and dashes ignored; Crockford's look-alikes read as what they look like (o->0, i/l->1). */
function normalise(code: string): string | null {
  if (typeof code !== 'string' || code.length > 64) return null;
  const compact = code.toLowerCase().replace(/[\s-]/g, '').replace(/o/g, '0').replace(/[il]/g, '1');
  if (compact.length !== LENGTH) return null;
  for (const symbol of compact) if (!ALPHABET.includes(symbol)) return null;
  return compact;
}
