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

  it('hands out copies: changing a listed key changes nothing stored', async () => {
    const key = aSigningKey(at('2026-02-01T00:00:00.000Z'), { kid: 'kid-copy' });
    await store.signingKeys.save(key);
    const [listed] = (await store.signingKeys.list()).filter((k) => k.kid === key.kid);
    listed!.publicJwk.x = 'tampered';
    listed!.createdAt.setTime(0);
    await expect(store.signingKeys.list()).resolves.toContainEqual(key);
  });
});
