import { createCipheriv, randomBytes } from 'node:crypto';
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
  const CONTEXT = 'refresh_token:2f0c8a52-0d5c-4a57-9d2a-3f0e8f0b7c11';

  it('round-trips, with a fresh IV per seal', () => {
    const sealed = box.seal('refresh-token ✓ ünïcode', CONTEXT);
    expect(sealed).toMatch(/^v2\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{22}$/);
    expect(box.open(sealed, CONTEXT)).toBe('refresh-token ✓ ünïcode');
    expect(box.seal('same', CONTEXT)).not.toBe(box.seal('same', CONTEXT));
    expect(box.open(box.seal('', CONTEXT), CONTEXT)).toBe('');
    expect(sealed).not.toContain('2f0c8a52'); // the context is authenticated, never stored
  });

  it('a value opens only under the context it was sealed under: copied to another row or purpose, it is refused (outside review, 2026-12-04)', () => {
    const mine = box.seal('JBSWY3DPEHPK3PXP', 'totp_secret:attacker-id');
    expect(box.open(mine, 'totp_secret:attacker-id')).toBe('JBSWY3DPEHPK3PXP');
    for (const other of ['totp_secret:victim-id', 'refresh_token:attacker-id', 'totp_secret:attacker-i', '']) {
      expect(() => box.open(mine, other)).toThrow(/could not be opened/);
    }
  });

  it('still opens a value sealed before contexts (v1: no additional data), under any context', () => {
    const key = randomBytes(32);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
    const ciphertext = Buffer.concat([cipher.update('old refresh token', 'utf8'), cipher.final()]);
    const v1 = ['v1', iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
    expect(new AesGcmSecretBox(key).open(v1, CONTEXT)).toBe('old refresh token');
    // A v1 value relabelled v2 is checked with the context, and refused.
    expect(() => new AesGcmSecretBox(key).open(v1.replace(/^v1/, 'v2'), CONTEXT)).toThrow(/could not be opened/);
    // ENCRYPTION_LEGACY_VALUES=refuse (once reseal has sealed every row anew): a kept v1 value opens nowhere, in no
    // row, under no key (an outside review, stop 48, pasted one into another account's column); v2 is unchanged.
    const strict = new AesGcmSecretBox(key, [randomBytes(32)], { acceptLegacy: false });
    for (const context of [CONTEXT, 'totp_secret:victim', 'refresh_token:any-session']) {
      expect(() => strict.open(v1, context)).toThrow(/could not be opened/);
      expect(() => strict.reseal(v1, context)).toThrow(/could not be opened/);
    }
    expect(strict.open(strict.seal('current', CONTEXT), CONTEXT)).toBe('current');
  });

  it.each([1, 2, 3])('rejects a value with part %i tampered', (index) => {
    const parts = box.seal('secret value', CONTEXT).split('.');
    const part = parts[index] as string;
    parts[index] = (part.startsWith('A') ? 'B' : 'A') + part.slice(1);
    expect(() => box.open(parts.join('.'), CONTEXT)).toThrow(/could not be opened/);
  });

  it('rejects a value sealed with another key', () => {
    const sealed = new AesGcmSecretBox(randomBytes(32)).seal('secret value', CONTEXT);
    expect(() => box.open(sealed, CONTEXT)).toThrow(/could not be opened/);
  });

  it.each(['', 'garbage', 'v3.a.b.c', 'v2.a.b', 'v1.!!.b.c'])('rejects malformed input %p', (input) => {
    expect(() => box.open(input, CONTEXT)).toThrow(/could not be opened/);
  });

  it('rejects a truncated tag', () => {
    const parts = box.seal('secret value', CONTEXT).split('.');
    parts[3] = Buffer.from(parts[3] as string, 'base64url').subarray(0, 12).toString('base64url');
    expect(() => box.open(parts.join('.'), CONTEXT)).toThrow(/could not be opened/);
  });

  it('needs a 32-byte key', () => {
    expect(() => new AesGcmSecretBox(randomBytes(16))).toThrow(/32 bytes/);
    expect(() => new AesGcmSecretBox(randomBytes(32), [randomBytes(31)])).toThrow(/32 bytes/);
  });
});

describe('AesGcmSecretBox keyring (ENCRYPTION_KEYS_PREVIOUS)', () => {
  const CONTEXT = 'totp_secret:7d4f7a3e-5d7b-4b8e-9d55-1c1b2f6a0e42';
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const before = new AesGcmSecretBox(oldKey);
  const ring = new AesGcmSecretBox(newKey, [oldKey]);

  it('opens values sealed under a previous key, seals under the current one only', () => {
    const old = before.seal('JBSWY3DPEHPK3PXP', CONTEXT);
    expect(ring.open(old, CONTEXT)).toBe('JBSWY3DPEHPK3PXP');
    const fresh = ring.seal('JBSWY3DPEHPK3PXP', CONTEXT);
    expect(new AesGcmSecretBox(newKey).open(fresh, CONTEXT)).toBe('JBSWY3DPEHPK3PXP');
    expect(() => before.open(fresh, CONTEXT)).toThrow(/could not be opened/);
    // The context still binds under a previous key.
    expect(() => ring.open(old, 'totp_secret:another-account')).toThrow(/could not be opened/);
    // A key the ring does not hold opens nothing.
    expect(() => ring.open(new AesGcmSecretBox(randomBytes(32)).seal('x', CONTEXT), CONTEXT)).toThrow(/could not be opened/);
  });

  it('reseal: a value under a previous key or in the v1 format comes back under the current key; a current one is null', () => {
    const resealed = ring.reseal(before.seal('refresh token', CONTEXT), CONTEXT);
    expect(resealed).not.toBeNull();
    expect(new AesGcmSecretBox(newKey).open(resealed as string, CONTEXT)).toBe('refresh token');
    expect(ring.reseal(resealed as string, CONTEXT)).toBeNull();
    expect(ring.reseal(ring.seal('x', CONTEXT), CONTEXT)).toBeNull();

    // v1 (no context) under the current key: sealed again in v2, bound to its context from then on.
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', newKey, iv, { authTagLength: 16 });
    const ciphertext = Buffer.concat([cipher.update('v1 secret', 'utf8'), cipher.final()]);
    const v1 = ['v1', iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
    const upgraded = ring.reseal(v1, CONTEXT) as string;
    expect(upgraded).toMatch(/^v2\./);
    expect(ring.open(upgraded, CONTEXT)).toBe('v1 secret');
    expect(() => ring.open(upgraded, 'totp_secret:another-account')).toThrow(/could not be opened/);

    expect(() => ring.reseal('v2.garbage', CONTEXT)).toThrow(/could not be opened/);
    expect(() => ring.reseal(before.seal('x', CONTEXT), 'refresh_token:other')).toThrow(/could not be opened/);
  });
});

describe('AesGcmSecretBox.sealUnder: sealed under the box key and a secret', () => {
  const CONTEXT = 'refresh_token:2f0c8a52-0d5c-4a57-9d2a-3f0e8f0b7c11';
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const box = new AesGcmSecretBox(oldKey);
  const secret = randomBytes(32).toString('base64url');

  it('opens with the box and the secret both; the box alone gives the inner layer, not the value', () => {
    const sealed = box.sealUnder('next-token', CONTEXT, secret);
    expect(sealed).toMatch(/^v2\./);
    expect(box.openUnder(sealed, CONTEXT, secret)).toBe('next-token');
    expect(box.open(sealed, CONTEXT)).toMatch(/^u1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(box.open(sealed, CONTEXT)).not.toContain('next-token');
    for (const wrong of [randomBytes(32).toString('base64url'), `${secret}x`, secret.slice(1), '']) {
      expect(() => box.openUnder(sealed, CONTEXT, wrong)).toThrow(/could not be opened/);
    }
    expect(() => box.openUnder(sealed, 'refresh_token:another-session', secret)).toThrow(/could not be opened/);
    expect(() => new AesGcmSecretBox(randomBytes(32)).openUnder(sealed, CONTEXT, secret)).toThrow(/could not be opened/);
    expect(box.sealUnder('same', CONTEXT, secret)).not.toBe(box.sealUnder('same', CONTEXT, secret));
  });

  it('a value seal() sealed (before sealUnder) still opens, whatever the secret; a tampered inner layer does not', () => {
    expect(box.openUnder(box.seal('legacy-token', CONTEXT), CONTEXT, 'any secret')).toBe('legacy-token');
    const inner = box.open(box.sealUnder('next-token', CONTEXT, secret), CONTEXT).split('.');
    inner[2] = Buffer.from('forged').toString('base64url');
    expect(() => box.openUnder(box.seal(inner.join('.'), CONTEXT), CONTEXT, secret)).toThrow(/could not be opened/);
    expect(() => box.openUnder(box.seal('u1.x', CONTEXT), CONTEXT, secret)).toThrow(/could not be opened/);
  });

  it('opensAlone: true only for a non-empty value seal() sealed; never throws', () => {
    expect(box.opensAlone(box.seal('legacy-token', CONTEXT), CONTEXT)).toBe(true);
    expect(box.opensAlone(box.sealUnder('next-token', CONTEXT, secret), CONTEXT)).toBe(false);
    expect(box.opensAlone(box.seal('', CONTEXT), CONTEXT)).toBe(false);
    expect(box.opensAlone(box.seal('legacy-token', CONTEXT), 'refresh_token:another-session')).toBe(false);
    expect(box.opensAlone('garbage', CONTEXT)).toBe(false);
  });

  it('reseal and a new ENCRYPTION_KEY change the outer seal only: the value still opens with the secret', () => {
    const ring = new AesGcmSecretBox(newKey, [oldKey]);
    const resealed = ring.reseal(box.sealUnder('next-token', CONTEXT, secret), CONTEXT) as string;
    expect(new AesGcmSecretBox(newKey).openUnder(resealed, CONTEXT, secret)).toBe('next-token');
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
