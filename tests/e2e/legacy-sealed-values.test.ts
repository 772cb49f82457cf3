import { createCipheriv, randomBytes } from 'node:crypto';
import { startTestApp } from '../support/app';

/** A value sealed before contexts (v1: no additional data) under `key`. */
function v1Sealed(key: Buffer, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

/**
 * ENCRYPTION_LEGACY_VALUES reaches the service's secret box: `accept` (default) still opens a v1 value, in any row;
 * `refuse` (once reseal has sealed every row anew) opens none (an outside review, stop 48).
 */
describe('ENCRYPTION_LEGACY_VALUES', () => {
  it.each([
    ['accept', true],
    ['refuse', false],
  ])('%s', async (setting, opens) => {
    const key = randomBytes(32);
    // The default backend (the real PostgreSQL when there is one: a start of 0.4 s, where PGlite's takes 1.5 s).
    const t = await startTestApp({ env: { ENCRYPTION_KEY: key.toString('hex'), ENCRYPTION_LEGACY_VALUES: setting } });
    try {
      const legacy = v1Sealed(key, 'a TOTP secret from 2026-11');
      const open = () => t.app.infra.secretBox.open(legacy, 'totp_secret:00000000-0000-4000-8000-000000000001');
      if (opens) expect(open()).toBe('a TOTP secret from 2026-11');
      else expect(open).toThrow(/could not be opened/);
    } finally {
      await t.stop();
    }
  }, 60_000);
});
