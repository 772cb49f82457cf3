import { ADAPTERS, type Store } from '../../support/persistence';
import { aSigningKey, at } from '../../support/mothers';

/** The SigningKeyRepository contract on every adapter; one fresh store per adapter, so list() sees only these keys. */
describe.each(ADAPTERS)('SigningKeyRepository on $name', (adapter) => {
  let store: Store;

  beforeAll(async () => {
    store = await adapter.start();
  });
  afterAll(async () => store?.stop());

  it('saves, lists oldest first (then by kid), updates by kid and deletes keys', async () => {
    const rsa = aSigningKey(at('2026-01-02T00:00:00.000Z'), {
      alg: 'RS256',
      publicJwk: { kty: 'RSA', n: 'sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1Wl', e: 'AQAB' },
    });
    const ed = aSigningKey(at('2026-01-01T00:00:00.000Z'), { status: 'active', activatedAt: at('2026-01-01T00:00:01.000Z') });
    const twinB = aSigningKey(at('2026-01-03T00:00:00.000Z'), { kid: 'kid-twin-b' });
    const twinA = aSigningKey(at('2026-01-03T00:00:00.000Z'), { kid: 'kid-twin-a' });
    for (const key of [rsa, twinB, ed, twinA]) await store.signingKeys.save(key);

    await expect(store.signingKeys.list()).resolves.toEqual([ed, rsa, twinA, twinB]);

    const retired = { ...ed, status: 'retired' as const, retiredAt: at('2026-01-03T00:00:00.000Z') };
    const activated = { ...rsa, status: 'active' as const, activatedAt: at('2026-01-03T00:00:00.000Z') };
    await store.signingKeys.save(retired);
    await store.signingKeys.save(activated);
    await expect(store.signingKeys.list()).resolves.toEqual([retired, activated, twinA, twinB]);

    for (const kid of [retired.kid, twinA.kid, twinB.kid]) await store.signingKeys.delete(kid);
    await expect(store.signingKeys.list()).resolves.toEqual([activated]);
  });

  it('raises the declared token TTL atomically, never lowers it, keeps null (unknown); a save never undoes it', async () => {
    const key = aSigningKey(at('2026-03-01T00:00:00.000Z'), { kid: 'kid-ttl', status: 'active', maxTokenTtlSeconds: 60 });
    const legacy = aSigningKey(at('2026-03-01T00:00:01.000Z'), { kid: 'kid-ttl-legacy', maxTokenTtlSeconds: null });
    await store.signingKeys.save(key);
    await store.signingKeys.save(legacy);
    const ttlOf = async (kid: string) => (await store.signingKeys.list()).find((k) => k.kid === kid)?.maxTokenTtlSeconds;

    // A signer with 15-minute tokens declares while a rotation holds the copy it listed before (60 s).
    const listedByRotation = (await store.signingKeys.list()).find((k) => k.kid === key.kid)!;
    await Promise.all([900, 300, 600].map((ttl) => store.signingKeys.declareTokenTtl(key.kid, ttl)));
    await expect(ttlOf(key.kid)).resolves.toBe(900);
    await store.signingKeys.save({ ...listedByRotation, status: 'retired', retiredAt: at('2026-03-01T00:10:00.000Z') });
    await expect(ttlOf(key.kid)).resolves.toBe(900);
    await expect(store.signingKeys.list()).resolves.toContainEqual({ ...key, status: 'retired', retiredAt: at('2026-03-01T00:10:00.000Z'), maxTokenTtlSeconds: 900 });
    await store.signingKeys.declareTokenTtl(key.kid, 60);
    await expect(ttlOf(key.kid)).resolves.toBe(900);

    await store.signingKeys.declareTokenTtl(legacy.kid, 900);
    await expect(ttlOf(legacy.kid)).resolves.toBeNull();
    await store.signingKeys.declareTokenTtl('kid-unknown', 900); // no row: nothing happens
    await expect(store.signingKeys.list()).resolves.not.toContainEqual(expect.objectContaining({ kid: 'kid-unknown' }));
  });

  it("an update by kid changes the status and its times only: a copy listed before a reseal cannot put the old ciphertext back", async () => {
    const key = aSigningKey(at('2026-04-01T00:00:00.000Z'), { kid: 'kid-material', status: 'next', sealedPrivateKey: 'v2:sealed-under-the-old-key' });
    await store.signingKeys.save(key);
    const listedByRotation = (await store.signingKeys.list()).find((k) => k.kid === key.kid)!;
    // reseal rewrites the private key under the new ENCRYPTION_KEY meanwhile (its own statement; here as an insert
    // of the same kid would not do it either, so the stored row is changed the way reseal does: delete and re-add).
    await store.signingKeys.delete(key.kid);
    await store.signingKeys.save({ ...key, sealedPrivateKey: 'v2:sealed-under-the-new-key' });
    // The rotation writes the copy it listed, promoted.
    await store.signingKeys.save({ ...listedByRotation, status: 'active', activatedAt: at('2026-04-01T00:10:00.000Z'), alg: 'ES256', publicJwk: { kty: 'EC' } });
    await expect(store.signingKeys.list()).resolves.toContainEqual({
      ...key,
      sealedPrivateKey: 'v2:sealed-under-the-new-key',
      status: 'active',
      activatedAt: at('2026-04-01T00:10:00.000Z'),
    });
  });

  it('hands out copies: changing a listed key changes nothing stored', async () => {
    const key = aSigningKey(at('2026-02-01T00:00:00.000Z'), { kid: 'kid-copy' });
    await store.signingKeys.save(key);
    const [listed] = (await store.signingKeys.list()).filter((k) => k.kid === key.kid);
    listed!.publicJwk.x = 'tampered';
    listed!.createdAt.setTime(0);
    await expect(store.signingKeys.list()).resolves.toContainEqual(key);
  });
});
