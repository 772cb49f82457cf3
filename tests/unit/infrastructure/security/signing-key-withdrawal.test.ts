import { SigningKeyManager } from '@infrastructure/security/jose/signing-key-manager';
import { JoseTokenService } from '@infrastructure/security/jose/jose-token-service';
import { importPKCS8, SignJWT, type CryptoKey } from 'jose';
import { AUDIENCE, CLAIMS, ISSUER, TTL, keyWorld, type KeyWorld } from './security-fixtures';

/**
 * withdraw-key (an outside review, 2026-12-07): after a leak, `rotate-keys --force` retires the key, but a retired key
 * stays published and verifies whatever its holder mints for the longest token TTL plus skew plus a reload interval.
 * Withdrawing deletes it at once; every instance drops it at its next reload, verified-token cache included.
 */
describe('SigningKeyManager.withdraw', () => {
  /** A service instance (verified tokens remembered, as in production) and the CLI's manager on the same store. */
  async function fleet(): Promise<{ world: KeyWorld; service: JoseTokenService; cli: SigningKeyManager }> {
    const world = await keyWorld();
    const service = new JoseTokenService(world.keys, { issuer: ISSUER, audience: AUDIENCE, accessTokenTtlSeconds: TTL, alg: 'EdDSA', verifiedCacheMaxEntries: 100 });
    const cli = new SigningKeyManager(world.repository, world.box, world.clock, { alg: 'EdDSA', accessTokenTtlSeconds: TTL, mode: 'follow' });
    await cli.start();
    return { world, service, cli };
  }

  /** The private key as whoever read the store holds it: kept after the row is gone. */
  async function leak(world: KeyWorld, kid: string): Promise<CryptoKey> {
    const record = (await world.repository.list()).find((r) => r.kid === kid)!;
    return importPKCS8(world.box.open(record.sealedPrivateKey, `signing_key:${kid}`), 'EdDSA');
  }

  /** What they mint with it: any claims (here the admin role), under the key's kid, dated now. */
  async function mint(world: KeyWorld, kid: string, privateKey: CryptoKey): Promise<string> {
    const now = Math.floor(world.clock.now().getTime() / 1000);
    return new SignJWT({ ...CLAIMS, roles: ['admin'] })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid })
      .setIssuer(ISSUER).setAudience(AUDIENCE).setSubject('user-1').setIssuedAt(now).setNotBefore(now).setExpirationTime(now + 300).setJti('minted')
      .sign(privateKey);
  }

  const kidsOf = (keys: SigningKeyManager) => keys.jwks().keys.map((k) => k.kid);

  it('deletes a retired key at once; after its reload an instance neither publishes it nor accepts a token it signed, remembered or minted anew', async () => {
    const { world, service, cli } = await fleet();
    const leaked = world.keys.activeKey().kid;
    const privateKey = await leak(world, leaked);
    const issued = (await service.sign(CLAIMS)).token;
    await service.verify(issued); // remembered by the verified-token cache
    await cli.rotate(); // rotate-keys --force
    await world.keys.reload();
    const minted = await mint(world, leaked, privateKey);
    // Retired, it still verifies what its holder mints (the gap the review found), and it is still in the JWKS.
    await expect(service.verify(minted)).resolves.toMatchObject({ roles: ['admin'] });
    expect(kidsOf(world.keys)).toContain(leaked);

    expect(await cli.withdraw(leaked)).toBe('withdrawn');
    expect((await world.repository.list()).map((r) => r.kid)).not.toContain(leaked);
    expect(kidsOf(cli)).not.toContain(leaked);

    await world.keys.reload(); // the instance's periodic reload (every 60 s)
    expect(kidsOf(world.keys)).not.toContain(leaked);
    expect(world.keys.publicKeyFor(leaked, 'EdDSA')).toBeUndefined();
    for (const token of [issued, minted, await mint(world, leaked, privateKey)]) {
      await expect(service.verify(token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    }
    // The key that signs now is untouched.
    await expect(service.verify((await service.sign(CLAIMS)).token)).resolves.toMatchObject({ sub: CLAIMS.sub });
  });

  it('refuses the active key, the next key and an unknown kid, writing nothing', async () => {
    const { world, service, cli } = await fleet();
    const records = await world.repository.list();
    const active = records.find((r) => r.status === 'active')!.kid;
    const next = records.find((r) => r.status === 'next')!.kid;
    expect(await cli.withdraw(active)).toBe('active');
    expect(await cli.withdraw(next)).toBe('next');
    expect(await cli.withdraw('no-such-kid')).toBe('unknown');
    expect(await world.repository.list()).toEqual(records);
    await world.keys.reload();
    expect(kidsOf(world.keys).sort()).toEqual([active, next].sort());
    await expect(service.verify((await service.sign(CLAIMS)).token)).resolves.toMatchObject({ sub: CLAIMS.sub });
  });

  it('a key withdrawn twice is unknown the second time', async () => {
    const { world, cli } = await fleet();
    const leaked = world.keys.activeKey().kid;
    await cli.rotate();
    expect(await cli.withdraw(leaked)).toBe('withdrawn');
    expect(await cli.withdraw(leaked)).toBe('unknown');
  });
});
