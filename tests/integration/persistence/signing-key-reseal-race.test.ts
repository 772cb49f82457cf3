import { randomBytes } from 'node:crypto';
import type { SigningKeyRecord, SigningKeyRepository } from '@application/ports/signing-keys';
import { resealRows } from '@infrastructure/persistence/typeorm/reseal';
import { AesGcmSecretBox } from '@infrastructure/security/crypto/aes-gcm-secret-box';
import { SigningKeyManager } from '@infrastructure/security/jose/signing-key-manager';
import { ManualClock } from '@infrastructure/time/system-clock';
import { SQL_ADAPTERS } from '../../support/persistence';

/**
 * docs/key-rotation.md, step 3 (ENCRYPTION_KEY changed, the old key in ENCRYPTION_KEYS_PREVIOUS): `reseal` and a
 * `rotate-keys --force` run side by side. The rotation listed the keys before reseal rewrote them and saved its
 * listed copies back whole: the old ciphertext returned after reseal had reported every key resealed, and once the
 * old key was dropped the service could not start (an outside review, stop 48). A save now changes the status only.
 */
describe.each(SQL_ADAPTERS)('signing keys: a rotation racing reseal on $name', (adapter) => {
  it('keeps what reseal wrote: every key opens under the new ENCRYPTION_KEY alone after both', async () => {
    const store = await adapter.start();
    try {
      const dataSource = store.dataSource!;
      const oldKey = randomBytes(32);
      const newKey = randomBytes(32);
      const clock = new ManualClock(new Date('2026-12-05T12:00:00.000Z'));
      const options = { alg: 'EdDSA' as const, accessTokenTtlSeconds: 900 };
      // Keys made under the old ENCRYPTION_KEY.
      await new SigningKeyManager(store.signingKeys, new AesGcmSecretBox(oldKey), clock, options).init();
      clock.advance(400);
      // The instance now runs with the new key and the old one as previous; reseal runs right after the
      // rotation listed the keys.
      const keyring = new AesGcmSecretBox(newKey, [oldKey]);
      let resealed: Awaited<ReturnType<typeof resealRows>> | null = null;
      const racing: SigningKeyRepository = {
        list: async (): Promise<SigningKeyRecord[]> => {
          const listed = await store.signingKeys.list();
          resealed ??= await resealRows(dataSource, keyring);
          return listed;
        },
        save: (key) => store.signingKeys.save(key),
        declareTokenTtl: (kid, seconds) => store.signingKeys.declareTokenTtl(kid, seconds),
        delete: (kid) => store.signingKeys.delete(kid),
      };
      await new SigningKeyManager(racing, keyring, clock, options).rotate(0);
      expect(resealed).toMatchObject({ signingKeys: { resealed: 2, unopenable: 0 } });
      // The old key dropped: every key still opens, and a service starting now starts.
      const after = await resealRows(dataSource, new AesGcmSecretBox(newKey));
      expect(after.signingKeys).toMatchObject({ unopenable: 0 });
      await expect(new SigningKeyManager(store.signingKeys, new AesGcmSecretBox(newKey), clock, options).init()).resolves.toBeUndefined();
    } finally {
      await store.stop();
    }
  });
});
