import { randomBytes } from 'node:crypto';
import {
  AesGcmSecretBox,
  generateEncryptionKey,
  parseEncryptionKey,
} from '@infrastructure/security/crypto/aes-gcm-secret-box';
import { safeEqual } from '@infrastructure/security/crypto/constant-time';
import { CryptoOpaqueTokens } from '@infrastructure/security/crypto/crypto-opaque-tokens';

describe('CryptoOpaqueTokens', () => {
  const tokens = new CryptoOpaqueTokens();

  it('creates URL-safe random tokens with their SHA-256 hex digest', () => {
    const { token, hash } = tokens.create(32);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(tokens.hash(token)).toBe(hash);
    expect(tokens.create(32).token).not.toBe(token);
    expect(tokens.hash(`${token}x`)).not.toBe(hash);
  });

  it('refuses fewer than 128 bits', () => {
    expect(() => tokens.create(15)).toThrow();
    expect(tokens.create(16).token).toHaveLength(22);
  });
});

describe('AesGcmSecretBox', () => {
  const box = new AesGcmSecretBox(randomBytes(32));

  it('round-trips, with a fresh IV per seal', () => {
    const sealed = box.seal('refresh-token ✓ ünïcode');
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{22}$/);
    expect(box.open(sealed)).toBe('refresh-token ✓ ünïcode');
    expect(box.seal('same')).not.toBe(box.seal('same'));
    expect(box.open(box.seal(''))).toBe('');
  });

  it.each([1, 2, 3])('rejects a value with part %i tampered', (index) => {
    const parts = box.seal('secret value').split('.');
    const part = parts[index] as string;
    parts[index] = (part.startsWith('A') ? 'B' : 'A') + part.slice(1);
    expect(() => box.open(parts.join('.'))).toThrow(/could not be opened/);
  });

  it('rejects a value sealed with another key', () => {
    const sealed = new AesGcmSecretBox(randomBytes(32)).seal('secret value');
    expect(() => box.open(sealed)).toThrow(/could not be opened/);
  });

  it.each(['', 'garbage', 'v2.a.b.c', 'v1.a.b', 'v1.!!.b.c'])('rejects malformed input %p', (input) => {
    expect(() => box.open(input)).toThrow(/could not be opened/);
  });

  it('rejects a truncated tag', () => {
    const parts = box.seal('secret value').split('.');
    parts[3] = Buffer.from(parts[3] as string, 'base64url').subarray(0, 12).toString('base64url');
    expect(() => box.open(parts.join('.'))).toThrow(/could not be opened/);
  });

  it('needs a 32-byte key', () => {
    expect(() => new AesGcmSecretBox(randomBytes(16))).toThrow(/32 bytes/);
  });
});

describe('parseEncryptionKey', () => {
  const key = randomBytes(32);

  it.each([
    ['hex', key.toString('hex')],
    ['HEX', key.toString('hex').toUpperCase()],
    ['base64', key.toString('base64')],
    ['base64url', key.toString('base64url')],
    ['base64 without padding', key.toString('base64').replace(/=+$/, '')],
  ])('accepts %s', (_name, raw) => {
    expect(parseEncryptionKey(` ${raw}\n`).equals(key)).toBe(true);
  });

  it.each(['', 'short', randomBytes(16).toString('hex'), randomBytes(31).toString('base64'), 'z'.repeat(64)])(
    'rejects %p without echoing it',
    (raw) => {
      let message = '';
      try {
        parseEncryptionKey(raw);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/ENCRYPTION_KEY must be 32 bytes/);
      if (raw.length > 0) expect(message).not.toContain(raw);
    },
  );

  it('generates keys it can parse', () => {
    const generated = generateEncryptionKey();
    expect(parseEncryptionKey(generated)).toHaveLength(32);
    expect(generateEncryptionKey()).not.toBe(generated);
  });
});

describe('safeEqual', () => {
  it('compares any two strings without throwing on unequal lengths', () => {
    expect(safeEqual('secret', 'secret')).toBe(true);
    expect(safeEqual('secret', 'secreT')).toBe(false);
    expect(safeEqual('secret', 'secret-longer')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
    expect(safeEqual('', 'x')).toBe(false);
  });
});
