import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { SecretBox } from '@application/ports/secret-box';

const KEY_BYTES = 32;
// 96-bit IVs are GCM's native size; random ones are safe for far more seals than this service makes per key.
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** v2: the context is the GCM additional authenticated data. v1 (until 2026-12-04): no context; still opened. */
const VERSION = 'v2';
const LEGACY_VERSION = 'v1';
const B64URL = /^[A-Za-z0-9_-]*$/;
/** sealUnder's inner layer: AES-256-GCM under innerKey(secret), the context as its additional data too. */
const INNER_VERSION = 'u1';

/**
 * The inner layer's key: SHA-256 of a label and the secret. The secrets given are 256-bit tokens from a CSPRNG, so a
 * hash is a sound key derivation (a password-based one would only slow the hot path).
 */
function innerKey(secret: string): Buffer {
  return createHash('sha256').update('auth-service sealUnder v1\0').update(secret, 'utf8').digest();
}

/**
 * AES-256-GCM; the version prefix leaves room to change the format without a flag day. The context is
 * authenticated with the value (additional authenticated data), never stored in it: a value opens only under the
 * context it was sealed under. Values sealed before contexts (v1) still open, under any context, until the row is
 * sealed again (a refresh rotates, a TOTP secret is set up anew, a key is rotated, `reseal` runs); until
 * 2026-12-04 a value could be moved from one row to another and still open (an outside review).
 *
 * A keyring: values are sealed under the current key and opened under it or any previous one
 * (ENCRYPTION_KEYS_PREVIOUS), tried in order. A sealed value names no key: GCM's tag refuses a wrong key as surely
 * as a tampered value (a forgery passes with probability 2^-128 per key tried), so trying each is safe, costs a
 * microsecond per previous key, and keeps the format that instances not yet upgraded read.
 */
export class AesGcmSecretBox implements SecretBox {
  private readonly keys: readonly Buffer[];
  private readonly acceptLegacy: boolean;

  /**
   * `acceptLegacy` false (ENCRYPTION_LEGACY_VALUES=refuse): a v1 value does not open at all. Once `reseal` has sealed
   * every row anew, no v1 value is left but those someone kept (a backup, a copy), and those would open in any row:
   * an outside review (stop 48) pasted one into another account's TOTP column.
   */
  constructor(key: Buffer, previous: readonly Buffer[] = [], options: { acceptLegacy?: boolean } = {}) {
    this.acceptLegacy = options.acceptLegacy ?? true;
    for (const k of [key, ...previous]) {
      if (!Buffer.isBuffer(k) || k.length !== KEY_BYTES) throw new Error(`The encryption key must be exactly ${KEY_BYTES} bytes.`);
    }
    this.keys = [key, ...previous].map((k) => Buffer.from(k));
  }

  seal(plain: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys[0] as Buffer, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [VERSION, iv, ciphertext, cipher.getAuthTag()].map(encodePart).join('.');
  }

  open(sealed: string, context: string): string {
    return this.unseal(sealed, context).plain;
  }

  reseal(sealed: string, context: string): string | null {
    const opened = this.unseal(sealed, context);
    return opened.keyIndex === 0 && opened.version === VERSION ? null : this.seal(opened.plain, context);
  }

  sealUnder(plain: string, context: string, secret: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', innerKey(secret), iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return this.seal([INNER_VERSION, iv, ciphertext, cipher.getAuthTag()].map(encodePart).join('.'), context);
  }

  openUnder(sealed: string, context: string, secret: string): string {
    const inner = this.open(sealed, context);
    // A value seal() sealed: no inner layer (a base64url token has no '.', so it never starts with the prefix).
    if (!inner.startsWith(`${INNER_VERSION}.`)) return inner;
    const parts = inner.split('.');
    if (parts.length !== 4 || !parts.every((p) => B64URL.test(p))) throw unopenable();
    const iv = Buffer.from(parts[1] as string, 'base64url');
    const tag = Buffer.from(parts[3] as string, 'base64url');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw unopenable();
    try {
      const decipher = createDecipheriv('aes-256-gcm', innerKey(secret), iv, { authTagLength: TAG_BYTES });
      decipher.setAuthTag(tag);
      decipher.setAAD(Buffer.from(context, 'utf8'));
      return Buffer.concat([decipher.update(Buffer.from(parts[2] as string, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw unopenable();
    }
  }

  opensAlone(sealed: string, context: string): boolean {
    try {
      const plain = this.open(sealed, context);
      return plain !== '' && !plain.startsWith(`${INNER_VERSION}.`);
    } catch {
      return false;
    }
  }

  private unseal(sealed: string, context: string): { plain: string; keyIndex: number; version: string } {
    const parts = typeof sealed === 'string' ? sealed.split('.') : [];
    const version = parts[0];
    const known = version === VERSION || (version === LEGACY_VERSION && this.acceptLegacy);
    if (parts.length !== 4 || !known || !parts.every((p) => B64URL.test(p))) throw unopenable();
    const iv = Buffer.from(parts[1] as string, 'base64url');
    const ciphertext = Buffer.from(parts[2] as string, 'base64url');
    const tag = Buffer.from(parts[3] as string, 'base64url');
    // Without the length checks GCM would accept a truncated tag and so weaken authentication.
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw unopenable();
    for (const [keyIndex, key] of this.keys.entries()) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
        decipher.setAuthTag(tag);
        if (version === VERSION) decipher.setAAD(Buffer.from(context, 'utf8'));
        return { plain: Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8'), keyIndex, version };
      } catch {
        // Another key, or not openable at all: the next key, then the one refusal.
      }
    }
    throw unopenable();
  }
}

function encodePart(part: string | Buffer): string {
  return typeof part === 'string' ? part : part.toString('base64url');
}

// One message for every failure: which check failed is of use only to someone forging sealed values.
function unopenable(): Error {
  return new Error('Sealed value could not be opened (tampered with, sealed with another key, or belongs to another row).');
}

/** Accepts 64 hex characters or base64/base64url of 32 bytes; never echoes the value in an error. */
export function parseEncryptionKey(raw: string): Buffer {
  const value = typeof raw === 'string' ? raw.trim() : '';
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) {
    const bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length === KEY_BYTES) return bytes;
  }
  throw new Error(
    `ENCRYPTION_KEY must be ${KEY_BYTES} bytes given as 64 hex characters or base64/base64url ` +
      '(generate one with: node -e "console.log(require(\'crypto\').randomBytes(32).toString(\'base64url\'))").',
  );
}

export function generateEncryptionKey(): string {
  return randomBytes(KEY_BYTES).toString('base64url');
}
