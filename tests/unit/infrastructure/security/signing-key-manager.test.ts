import { randomBytes } from 'node:crypto';
import type { SigningKeyRepository } from '@application/ports/signing-keys';
import { InMemorySigningKeyRepository } from '@infrastructure/persistence/memory/in-memory-signing-key.repository';
import { AesGcmSecretBox } from '@infrastructure/security/crypto/aes-gcm-secret-box';
import { SigningKeyManager } from '@infrastructure/security/jose/signing-key-manager';
import { JoseTokenService } from '@infrastructure/security/jose/jose-token-service';
import { generateSigningKey } from '@infrastructure/security/jose/signing-key-material';
import { importPKCS8, SignJWT } from 'jose';
import { AUDIENCE, CLAIMS, FakeClock, ISSUER, TTL, decodePart, keyWorld } from './security-fixtures';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

describe('SigningKeyManager', () => {
  it('starts with an active key and a pre-published next key, public members only', async () => {
    const world = await keyWorld();
    const records = await world.repository.list();
    expect(records.map((r) => r.status).sort()).toEqual(['active', 'next']);
    const jwks = world.keys.jwks();
    expect(jwks.keys).toHaveLength(2);
    for (const jwk of jwks.keys) {
      expect(jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', use: 'sig', alg: 'EdDSA' });
      expect(typeof jwk.kid).toBe('string');
      for (const member of PRIVATE_MEMBERS) expect(jwk).not.toHaveProperty(member);
    }
    expect(jwks.keys[0]?.kid).toBe(world.keys.activeKey().kid);
    // The private key is stored sealed, never as PEM.
    for (const r of records) expect(r.sealedPrivateKey).not.toContain('PRIVATE KEY');
  });

  it('reuses the stored keys on the next start', async () => {
    const first = await keyWorld();
    const second = await keyWorld('EdDSA', first);
    expect(await second.repository.list()).toHaveLength(2);
    expect(second.keys.activeKey().kid).toBe(first.keys.activeKey().kid);
  });

  it('lets two instances starting at once on one database agree on the signing key', async () => {
    const clock = new FakeClock();
    const repository = new InMemorySigningKeyRepository();
    const box = new AesGcmSecretBox(randomBytes(32));
    const make = () => new SigningKeyManager(repository, box, clock, { alg: 'EdDSA', accessTokenTtlSeconds: TTL });
    const [a, b] = [make(), make()];
    await Promise.all([a.init(), b.init()]);
    await Promise.all([a.reload(), b.reload()]);
    expect(a.activeKey().kid).toBe(b.activeKey().kid);
    expect(a.jwks()).toEqual(b.jwks());
  });

  it('refuses to start with another encryption key, saying why', async () => {
    const world = await keyWorld();
    const other = { ...world, box: new AesGcmSecretBox(randomBytes(32)) };
    await expect(keyWorld('EdDSA', other)).rejects.toThrow(/ENCRYPTION_KEY/);
  });

  it('publishes no key whose row fails its checks: a forged row (a public key, no ENCRYPTION_KEY) never verifies a token (outside review, 2026-12-04)', async () => {
    const world = await keyWorld();
    const rejected: string[] = [];
    const keys = new SigningKeyManager(world.repository, world.box, world.clock, { alg: 'EdDSA', accessTokenTtlSeconds: TTL, onRejectedKey: (kid) => void rejected.push(kid) });
    const tokens = new JoseTokenService(keys, { issuer: ISSUER, audience: AUDIENCE, accessTokenTtlSeconds: TTL, alg: 'EdDSA' });
    // Someone who can write the table but lacks ENCRYPTION_KEY: their own key pair, sealed under a key of theirs.
    const forger = new AesGcmSecretBox(randomBytes(32));
    const forged = await generateSigningKey('EdDSA', forger, 'next', world.clock.now(), TTL);
    await world.repository.save(forged);
    // And a real key's row given another public key (the forged one's) under its own kid.
    const next = (await world.repository.list()).find((r) => r.status === 'next' && r.kid !== forged.kid)!;
    // (A write to the table, not a save: a save by kid changes the status and its times only.)
    await world.repository.delete(next.kid);
    await world.repository.save({ ...next, publicJwk: forged.publicJwk });
    await keys.init();
    expect(keys.jwks().keys.map((k) => k.kid).sort()).toEqual([keys.activeKey().kid]);
    expect(rejected.sort()).toEqual([forged.kid, next.kid].sort());
    // A token the forger signs with their private key, under either kid, is refused.
    const privateKey = await importPKCS8(forger.open(forged.sealedPrivateKey, `signing_key:${forged.kid}`), 'EdDSA');
    for (const kid of [forged.kid, next.kid]) {
      const token = await new SignJWT({ ...CLAIMS, token_type: 'user' })
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid })
        .setIssuer(ISSUER).setAudience(AUDIENCE).setIssuedAt().setNotBefore('0s').setExpirationTime('5m').setJti('j')
        .sign(privateKey);
      await expect(tokens.verify(token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    }
    // The service's own tokens still verify.
    const own = await tokens.sign(CLAIMS);
    await expect(tokens.verify(own.token)).resolves.toMatchObject({ sub: CLAIMS.sub });
  });

  it("publishes a row's public members only: members added to a real key's row never reach verifiers (a review, 2026-12-07)", async () => {
    const world = await keyWorld();
    const next = (await world.repository.list()).find((r) => r.status === 'next')!;
    // A write to the table by someone without ENCRYPTION_KEY: the key is still the sealed key's pair, with more members.
    await world.repository.delete(next.kid);
    await world.repository.save({ ...next, publicJwk: { ...next.publicJwk, d: 'AAAA', key_ops: 'encrypt', use: 'enc', ext: 'true' } });
    const keys = new SigningKeyManager(world.repository, world.box, world.clock, { alg: 'EdDSA', accessTokenTtlSeconds: TTL });
    await keys.init();
    const published = keys.jwks().keys.find((k) => k.kid === next.kid);
    expect(published).toEqual({ ...next.publicJwk, kid: next.kid, use: 'sig', alg: 'EdDSA' });
  });

  it('rotates: the pre-published key signs, the old one stays published, a new next appears', async () => {
    const world = await keyWorld();
    const oldKid = world.keys.activeKey().kid;
    const nextKid = (await world.repository.list()).find((r) => r.status === 'next')?.kid;
    expect(world.keys.jwks().keys.map((k) => k.kid)).toContain(nextKid);
    const before = await world.tokens.sign(CLAIMS);

    world.clock.advanceSeconds(600);
    await world.keys.rotate();

    expect(world.keys.activeKey().kid).toBe(nextKid);
    const records = await world.repository.list();
    expect(records.find((r) => r.kid === oldKid)).toMatchObject({ status: 'retired', retiredAt: world.clock.now() });
    const newNext = records.find((r) => r.status === 'next');
    expect(newNext).toBeDefined();
    expect(world.keys.jwks().keys.map((k) => k.kid).sort()).toEqual([oldKid, nextKid, newNext?.kid].sort());
    await expect(world.tokens.verify(before.token)).resolves.toMatchObject({ sub: CLAIMS.sub });
    const after = await world.tokens.sign(CLAIMS);
    expect(JSON.parse(Buffer.from(after.token.split('.')[0] as string, 'base64url').toString()).kid).toBe(nextKid);
  });

  /**
   * rotate(minNextKeyAgeSeconds), as the CLI's rotate-keys calls it with the JWKS's max-age: a next key published more
   * recently may be missing from a verifier's cached key set. The check is on the record the rotation promotes, so
   * rotations in parallel promote the same published key, and one right after another is refused.
   */
  it('refuses to promote a next key younger than the given age, writing nothing; parallel rotations never promote a young key', async () => {
    for (let round = 0; round < 5; round += 1) {
      const world = await keyWorld();
      const nextKid = (await world.repository.list()).find((r) => r.status === 'next')!.kid;
      world.clock.advanceSeconds(299);
      const before = await world.repository.list();
      expect(await world.keys.rotate(300)).toEqual({ refusedAgeSeconds: 299 });
      expect(await world.repository.list()).toEqual(before);

      world.clock.advanceSeconds(1);
      const results = await Promise.all([world.keys.rotate(300), world.keys.rotate(300), world.keys.rotate(300)]);
      expect(results.filter((r) => r === null).length).toBeGreaterThanOrEqual(1);
      const active = (await world.repository.list()).filter((r) => r.status === 'active');
      expect(active.map((r) => r.kid)).toEqual([nextKid]);
      // Right after, the new next key is seconds old: refused; without the age (--force) it rotates.
      expect(await world.keys.rotate(300)).toEqual({ refusedAgeSeconds: 0 });
      expect(await world.keys.rotate()).toBeNull();
      expect((await world.repository.list()).find((r) => r.status === 'active')?.kid).not.toBe(nextKid);
    }
  });

  it('deletes a retired key once every token it signed has expired (ttl + 60 s skew + the 60 s reload interval)', async () => {
    const world = await keyWorld();
    const oldKid = world.keys.activeKey().kid;
    await world.keys.rotate();
    world.clock.advanceSeconds(TTL + 60 + 59);
    await world.keys.prune();
    expect(world.keys.jwks().keys.map((k) => k.kid)).toContain(oldKid);
    world.clock.advanceSeconds(2);
    expect(world.keys.jwks().keys.map((k) => k.kid)).not.toContain(oldKid);
    await world.keys.prune();
    expect((await world.repository.list()).map((r) => r.kid)).not.toContain(oldKid);
  });

  it('keeps a retired key for the longest TTL its signers declared, not the pruning process\'s own (a 60 s CLI rotating twice)', async () => {
    const service = await keyWorld(); // ACCESS_TOKEN_TTL 15 min
    const cli = new SigningKeyManager(service.repository, service.box, service.clock, { alg: 'EdDSA', accessTokenTtlSeconds: 60 });
    await cli.init();
    const signedKid = service.keys.activeKey().kid;
    const { token } = await service.tokens.sign(CLAIMS);

    await cli.rotate(); // retires the key the token was signed with
    service.clock.advanceSeconds(60 + 60 + 60 + 1); // past the CLI's TTL + skew + reload interval
    await cli.rotate(); // prunes
    await service.keys.reload(); // the service's periodic reload
    expect((await service.repository.list()).map((r) => r.kid)).toContain(signedKid);
    expect(service.keys.jwks().keys.map((k) => k.kid)).toContain(signedKid);
    expect(cli.jwks().keys.map((k) => k.kid)).toContain(signedKid);
    await expect(service.tokens.verify(token)).resolves.toMatchObject({ sub: CLAIMS.sub });

    service.clock.advanceSeconds(TTL + 60 + 60 - 181 - 1); // a second before the token's expiry + skew + reload interval
    await cli.prune();
    expect((await service.repository.list()).map((r) => r.kid)).toContain(signedKid);
    service.clock.advanceSeconds(2);
    await cli.prune();
    expect((await service.repository.list()).map((r) => r.kid)).not.toContain(signedKid);
  });

  it('keeps a retired key of unrecorded token TTL (a row from before it was recorded) for the longest TTL allowed', async () => {
    const world = await keyWorld();
    const legacy = (await world.repository.list()).find((r) => r.status === 'active')!;
    // As the migration leaves a row written before the column existed; a signer's declaration leaves it unknown.
    await world.repository.delete(legacy.kid);
    await world.repository.save({ ...legacy, maxTokenTtlSeconds: null });
    const keys = new SigningKeyManager(world.repository, world.box, world.clock, { alg: 'EdDSA', accessTokenTtlSeconds: 60, maxAccessTokenTtlSeconds: 86400 });
    await keys.init();
    await keys.rotate();
    world.clock.advanceSeconds(86400 + 60 + 59);
    await keys.prune();
    expect((await world.repository.list()).find((r) => r.kid === legacy.kid)).toMatchObject({ status: 'retired', maxTokenTtlSeconds: null });
    world.clock.advanceSeconds(2);
    await keys.prune();
    expect((await world.repository.list()).map((r) => r.kid)).not.toContain(legacy.kid);
  });

  it('declares its TTL on the key it signs with, and refuses a token service that signs longer than that', async () => {
    const short = await keyWorld();
    const keys = new SigningKeyManager(short.repository, short.box, short.clock, { alg: 'EdDSA', accessTokenTtlSeconds: 3600 });
    await keys.init();
    const records = await short.repository.list();
    expect(records.find((r) => r.kid === keys.activeKey().kid)?.maxTokenTtlSeconds).toBe(3600);
    expect(records.find((r) => r.status === 'next')?.maxTokenTtlSeconds).toBe(TTL); // raised only when it signs
    expect(() => new JoseTokenService(short.keys, { issuer: ISSUER, audience: AUDIENCE, accessTokenTtlSeconds: TTL + 1 })).toThrow(/TTL/);
  });

  it('hands out one frozen JWK Set object until the key set changes (rotation, reload, a retired key leaving)', async () => {
    const a = await keyWorld();
    const b = await keyWorld('EdDSA', a);
    const first = b.keys.jwks();
    expect(b.keys.jwks()).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first.keys) && first.keys.every((k) => Object.isFrozen(k))).toBe(true);
    await b.keys.reload();
    const reloaded = b.keys.jwks();
    expect(reloaded).not.toBe(first);
    expect(reloaded).toEqual(first);
    // Another instance rotates: b shows it after its reload (periodic, or on an unknown kid), not before.
    const retiredKid = a.keys.activeKey().kid;
    await a.keys.rotate();
    expect(b.keys.jwks()).toBe(reloaded);
    await b.keys.reload();
    const rotated = b.keys.jwks();
    expect(rotated.keys.map((k) => k.kid)).toEqual(a.keys.jwks().keys.map((k) => k.kid));
    expect(rotated.keys.map((k) => k.kid)).toContain(retiredKid);
    b.clock.advanceSeconds(TTL + 60 + 59);
    expect(b.keys.jwks()).toBe(rotated);
    b.clock.advanceSeconds(2);
    expect(b.keys.jwks().keys.map((k) => k.kid)).not.toContain(retiredKid);
  });

  it('lets another instance verify after a rotation it has not seen (reload on unknown kid, rate-limited)', async () => {
    const a = await keyWorld();
    const b = await keyWorld('EdDSA', a);
    await a.keys.rotate();
    await a.keys.rotate(); // a now signs with a key b never loaded
    const { token } = await a.tokens.sign(CLAIMS);
    await expect(b.tokens.verify(token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    a.clock.advanceSeconds(31);
    await expect(b.tokens.verify(token)).resolves.toMatchObject({ sub: CLAIMS.sub });
  });

  it('a reload for an unknown kid that fails is that failure, not INVALID_TOKEN, and is not run again for 2 s (a review, stop 65)', async () => {
    const a = await keyWorld();
    const b = await keyWorld('EdDSA', a);
    await a.keys.rotate();
    await a.keys.rotate(); // a now signs with a key b never loaded
    const { token } = await a.tokens.sign(CLAIMS);
    a.clock.advanceSeconds(31);
    const outage = Object.assign(new Error('connection terminated'), { code: 'ECONNRESET' });
    const list = jest.spyOn(a.repository, 'list').mockRejectedValue(outage);
    await expect(b.tokens.verify(token)).rejects.toBe(outage);
    // Answered from memory for a moment: a flood of made-up kids does not run a reload each.
    await expect(b.tokens.verify(token)).rejects.toBe(outage);
    expect(list).toHaveBeenCalledTimes(1);
    // Once the database answers again, the token verifies.
    list.mockRestore();
    a.clock.advanceSeconds(3);
    await expect(b.tokens.verify(token)).resolves.toMatchObject({ sub: CLAIMS.sub });
  });

  it('reloads for an unknown kid after the clock stepped back since the last reload (a review of clocks, stop 65)', async () => {
    const a = await keyWorld();
    const b = await keyWorld('EdDSA', a);
    await a.keys.rotate();
    await a.keys.rotate();
    // The wall clock (shared by both here) steps back an hour: the last reload's time lies ahead. Counted as recent,
    // it suppressed every reload for the hour and the interval, and b refused a's tokens all that time.
    a.clock.advanceSeconds(-3600);
    const { token } = await a.tokens.sign(CLAIMS);
    await expect(b.tokens.verify(token)).resolves.toMatchObject({ sub: CLAIMS.sub });
  });

  /**
   * A changed JWT_ALG (CONTRACT §4: a key is published before it signs). Until a review found it, init() made a new key
   * of the configured algorithm active and signed with it at once: other instances (reload on an unknown kid at most
   * every 30 s) and SDK verifiers (the JWKS cached 300 s) refused its tokens. Now the published key keeps signing and
   * the new one is promoted once it has been published for the window (JWKS max-age 300 s + the 60 s reload: 360 s).
   */
  describe('a changed JWT_ALG', () => {
    const kidOf = (token: string) => decodePart(token, 0) as { alg: string; kid: string };

    it('keeps signing with the published key, publishes one of the new algorithm and promotes it once it was published for the window', async () => {
      const ed = await keyWorld('EdDSA');
      const peer = await keyWorld('EdDSA', ed); // another instance: loaded the keys before the restart
      const oldKid = ed.keys.activeKey().kid;
      const oldToken = await ed.tokens.sign(CLAIMS);
      ed.clock.advanceSeconds(10);

      const es = await keyWorld('ES256', ed); // restarted with JWT_ALG=ES256
      expect(es.keys.activeKey()).toMatchObject({ kid: oldKid, alg: 'EdDSA' });
      const esNext = (await es.repository.list()).filter((r) => r.status === 'next' && r.alg === 'ES256');
      expect(esNext).toHaveLength(1);
      const newKid = esNext[0]!.kid;
      expect(es.keys.jwks().keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, newKid]));

      const peerReloads = jest.spyOn(peer.keys, 'reload');
      const during = await es.tokens.sign(CLAIMS);
      expect(kidOf(during.token)).toMatchObject({ alg: 'EdDSA', kid: oldKid });
      await expect(peer.tokens.verify(during.token)).resolves.toMatchObject({ sub: CLAIMS.sub }); // no unknown kid
      expect(peerReloads).not.toHaveBeenCalled();
      peerReloads.mockRestore();

      // A second instance started on ES256 meanwhile reuses the published key rather than making another.
      ed.clock.advanceSeconds(50);
      const es2 = await keyWorld('ES256', ed);
      expect((await ed.repository.list()).filter((r) => r.alg === 'ES256').map((r) => r.kid)).toEqual([newKid]);
      expect(es2.keys.activeKey().kid).toBe(oldKid);

      // The peer's periodic reload (within the 60 s interval); a verifier caches the JWK Set it serves then.
      await peer.keys.refresh();
      const cachedJwks = peer.keys.jwks();
      expect(cachedJwks.keys.map((k) => k.kid)).toContain(newKid);

      ed.clock.advanceSeconds(360 - 50 - 1); // 359 s after the key was written: not yet
      await es.keys.refresh();
      expect(es.keys.activeKey().kid).toBe(oldKid);
      ed.clock.advanceSeconds(1);
      await es.keys.refresh(); // the periodic reload promotes it
      expect(es.keys.activeKey()).toMatchObject({ kid: newKid, alg: 'ES256' });
      const records = await ed.repository.list();
      expect(records.find((r) => r.kid === newKid)).toMatchObject({ status: 'active', activatedAt: ed.clock.now() });
      expect(records.filter((r) => r.alg === 'EdDSA').map((r) => r.status)).toEqual(['retired', 'retired']);
      expect(records.filter((r) => r.status === 'next').map((r) => r.alg)).toEqual(['ES256']);

      const after = await es.tokens.sign(CLAIMS);
      expect(kidOf(after.token)).toMatchObject({ alg: 'ES256', kid: newKid });
      const verifierReloads = jest.spyOn(peer.keys, 'reload');
      await expect(peer.tokens.verify(after.token)).resolves.toMatchObject({ sub: CLAIMS.sub });
      expect(verifierReloads).not.toHaveBeenCalled();
      // The old key stays published until its tokens expire.
      await es.keys.reload();
      await expect(es.tokens.verify(oldToken.token)).resolves.toMatchObject({ sub: CLAIMS.sub });
      // Every instance signs with the promoted key after its reload.
      await es2.keys.refresh();
      expect(es2.keys.activeKey().kid).toBe(newKid);
    });

    it('promotes at once, at start, a next key of the new algorithm published longer than the window', async () => {
      const ed = await keyWorld('EdDSA');
      const oldKid = ed.keys.activeKey().kid;
      await keyWorld('ES256', ed); // an instance on ES256 published a key, and stopped
      const publishedKid = (await ed.repository.list()).find((r) => r.status === 'next' && r.alg === 'ES256')!.kid;
      const peer = await keyWorld('EdDSA', ed);
      ed.clock.advanceSeconds(360);

      const changes: unknown[] = [];
      const keys = new SigningKeyManager(ed.repository, ed.box, ed.clock, {
        alg: 'ES256',
        accessTokenTtlSeconds: TTL,
        publicationWindowSeconds: 360,
        onAlgorithmChange: (change) => changes.push(change),
      });
      await keys.init();
      expect(keys.activeKey()).toMatchObject({ kid: publishedKid, alg: 'ES256' });
      const records = await ed.repository.list();
      expect(records.filter((r) => r.status === 'active').map((r) => r.kid)).toEqual([publishedKid]);
      expect(records.find((r) => r.kid === oldKid)).toMatchObject({ status: 'retired', retiredAt: ed.clock.now() });
      expect(records.filter((r) => r.status === 'next').map((r) => r.alg)).toEqual(['ES256']);
      expect(records.filter((r) => r.alg === 'ES256')).toHaveLength(2); // the promoted key and a fresh next one
      expect(changes).toEqual([{ from: 'EdDSA', to: 'ES256', kid: publishedKid, pending: false, effectiveAt: ed.clock.now() }]);
      const tokens = new JoseTokenService(keys, { issuer: ISSUER, audience: AUDIENCE, accessTokenTtlSeconds: TTL, alg: 'ES256' });
      const reloads = jest.spyOn(peer.keys, 'reload');
      await expect(peer.tokens.verify((await tokens.sign(CLAIMS)).token)).resolves.toMatchObject({ sub: CLAIMS.sub });
      expect(reloads).not.toHaveBeenCalled();
    });

    it('tells when the change takes effect, and honours the window it is given', async () => {
      const ed = await keyWorld('EdDSA');
      const start = ed.clock.now().getTime();
      const changes: Array<{ pending: boolean; effectiveAt: Date }> = [];
      const keys = new SigningKeyManager(ed.repository, ed.box, ed.clock, {
        alg: 'ES256',
        accessTokenTtlSeconds: TTL,
        publicationWindowSeconds: 100,
        onAlgorithmChange: (change) => changes.push(change),
      });
      await keys.init();
      expect(changes).toMatchObject([{ from: 'EdDSA', to: 'ES256', pending: true, effectiveAt: new Date(start + 100_000) }]);
      ed.clock.advanceSeconds(100);
      await keys.refresh();
      expect(keys.activeKey().alg).toBe('ES256');
      expect(changes[1]).toMatchObject({ pending: false });
    });

    it('lets an instance still on the old JWT_ALG restart mid-rollout without switching the fleet back', async () => {
      const ed = await keyWorld('EdDSA');
      const oldKid = ed.keys.activeKey().kid;
      await keyWorld('ES256', ed); // the first instance restarted on the new algorithm
      const before = await ed.repository.list();
      ed.clock.advanceSeconds(30);
      const old = await keyWorld('EdDSA', ed); // one still on EdDSA restarts
      expect(old.keys.activeKey().kid).toBe(oldKid);
      expect(await ed.repository.list()).toEqual(before); // nothing created, nothing retired
    });

    it('creates and retires nothing in follow mode (the CLI), with a next key due or not', async () => {
      const ed = await keyWorld('EdDSA');
      const oldKid = ed.keys.activeKey().kid;
      await keyWorld('ES256', ed);
      ed.clock.advanceSeconds(400); // the ES256 next key is past the window
      const before = await ed.repository.list();
      const keys = new SigningKeyManager(ed.repository, ed.box, ed.clock, { alg: 'ES256', accessTokenTtlSeconds: TTL, mode: 'follow' });
      await keys.start();
      await keys.refresh();
      ed.clock.advanceSeconds(400);
      await keys.refresh();
      expect(keys.activeKey()).toMatchObject({ kid: oldKid, alg: 'EdDSA' });
      expect(await ed.repository.list()).toEqual(before);
      const fresh = new InMemorySigningKeyRepository(); // and on a database no service started on
      const empty = new SigningKeyManager(fresh, ed.box, ed.clock, { alg: 'ES256', accessTokenTtlSeconds: TTL, mode: 'follow' });
      await empty.start();
      await empty.refresh();
      expect(await fresh.list()).toEqual([]);
    });
  });

  it('never leaves another instance without a signing key while a rotation runs (a reload between any two writes)', async () => {
    const a = await keyWorld();
    const b = await keyWorld('EdDSA', a);
    const oldKid = a.keys.activeKey().kid;
    // Another instance's periodic reload lands after each of the rotation's writes.
    const signers: string[] = [];
    const watched: SigningKeyRepository = {
      list: () => a.repository.list(),
      declareTokenTtl: (kid, seconds) => a.repository.declareTokenTtl(kid, seconds),
      delete: (kid) => a.repository.delete(kid),
      save: async (key) => {
        await a.repository.save(key);
        await b.keys.reload();
        signers.push(b.keys.activeKey().kid);
      },
    };
    const cli = new SigningKeyManager(watched, a.box, a.clock, { alg: 'EdDSA', accessTokenTtlSeconds: TTL });
    await cli.reload();
    a.clock.advanceSeconds(600);
    await cli.rotate();
    expect(signers.length).toBeGreaterThanOrEqual(3);
    expect(signers[0]).toBe(oldKid); // two active keys for a moment: the older still signs
    expect(signers.at(-1)).not.toBe(oldKid);
    await expect(b.tokens.verify((await b.tokens.sign(CLAIMS)).token)).resolves.toMatchObject({ sub: CLAIMS.sub });
  });

  it('a reload that read the table before a rotation never lands after one that read it since (a review of stop 55)', async () => {
    const a = await keyWorld();
    const b = await keyWorld('EdDSA', a);
    const oldKid = a.keys.activeKey().kid;
    // b's first reload reads the table, then its answer is held back; a rotation and b's second reload happen meanwhile.
    let release: () => void = () => undefined;
    let held = true;
    const slow: SigningKeyRepository = {
      list: async () => {
        const rows = await a.repository.list();
        if (held) {
          held = false;
          await new Promise<void>((resolve) => (release = resolve));
        }
        return rows;
      },
      declareTokenTtl: (kid, seconds) => a.repository.declareTokenTtl(kid, seconds),
      delete: (kid) => a.repository.delete(kid),
      save: (key) => a.repository.save(key),
    };
    const keys = new SigningKeyManager(slow, b.box, a.clock, { alg: 'EdDSA', accessTokenTtlSeconds: TTL });
    held = false;
    await keys.init();
    expect(keys.activeKey().kid).toBe(oldKid);
    held = true;
    const stale = keys.reload();
    a.clock.advanceSeconds(600);
    await a.keys.rotate();
    const newKid = a.keys.activeKey().kid;
    expect(newKid).not.toBe(oldKid);
    await keys.reload();
    expect(keys.activeKey().kid).toBe(newKid);
    release();
    await stale;
    expect(keys.activeKey().kid).toBe(newKid);
  });

  it('a burst of overlapping reloads around a rotation, their reads answered in any order, ends on the new key (20 rounds)', async () => {
    for (let round = 0; round < 20; round += 1) {
      const a = await keyWorld();
      let rotated = false;
      const delayed: SigningKeyRepository = {
        // Each read is answered after a random delay; the reads taken before the rotation are the old table.
        list: async () => {
          const rows = await a.repository.list();
          await new Promise((r) => setTimeout(r, rotated ? Math.random() * 5 : 5 + Math.random() * 20));
          return rows;
        },
        declareTokenTtl: (kid, seconds) => a.repository.declareTokenTtl(kid, seconds),
        delete: (kid) => a.repository.delete(kid),
        save: (key) => a.repository.save(key),
      };
      const keys = new SigningKeyManager(delayed, a.box, a.clock, { alg: 'EdDSA', accessTokenTtlSeconds: TTL });
      await keys.init();
      const before = Array.from({ length: 10 }, () => keys.reload());
      a.clock.advanceSeconds(600);
      await a.keys.rotate();
      rotated = true;
      const after = Array.from({ length: 3 }, () => keys.reload());
      await Promise.all([...before, ...after]);
      expect({ round, kid: keys.activeKey().kid }).toEqual({ round, kid: a.keys.activeKey().kid });
    }
  });

  it('keeps signing with its key when a reload finds none active, while that key is still published', async () => {
    const world = await keyWorld();
    const kid = world.keys.activeKey().kid;
    const stored = (await world.repository.list()).find((r) => r.kid === kid)!;
    await world.repository.save({ ...stored, status: 'retired', retiredAt: world.clock.now() }); // a hand-edited table
    await world.keys.reload();
    expect(world.keys.activeKey().kid).toBe(kid);
    await expect(world.tokens.verify((await world.tokens.sign(CLAIMS)).token)).resolves.toMatchObject({ sub: CLAIMS.sub });
    await world.repository.delete(kid); // gone from the key set: no longer usable
    await world.keys.reload();
    expect(() => world.keys.activeKey()).toThrow(/active signing key/);
  });

  it('fails loudly when used before init', () => {
    const keys = new SigningKeyManager(new InMemorySigningKeyRepository(), new AesGcmSecretBox(randomBytes(32)), new FakeClock(), {
      alg: 'EdDSA',
      accessTokenTtlSeconds: TTL,
    });
    expect(() => keys.activeKey()).toThrow(/init/);
  });
});

describe('InMemorySigningKeyRepository', () => {
  it('upserts by kid and hands out copies', async () => {
    const repository = new InMemorySigningKeyRepository();
    const record = {
      kid: 'k1', alg: 'EdDSA' as const, publicJwk: { kty: 'OKP' }, sealedPrivateKey: 's', status: 'next' as const,
      createdAt: new Date(0), activatedAt: null, retiredAt: null, maxTokenTtlSeconds: 900,
    };
    await repository.save(record);
    record.publicJwk.kty = 'changed';
    const [stored] = await repository.list();
    expect(stored?.publicJwk.kty).toBe('OKP');
    stored!.createdAt.setTime(5);
    expect((await repository.list())[0]?.createdAt.getTime()).toBe(0);
    await repository.save({ ...record, status: 'active' });
    expect(await repository.list()).toHaveLength(1);
    await repository.delete('k1');
    expect(await repository.list()).toEqual([]);
  });
});
