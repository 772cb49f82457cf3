import type { VerifiedUserAccessClaims } from '@application/ports/access-tokens';
import { JoseTokenService } from '@infrastructure/security/jose/jose-token-service';
import { AUDIENCE, CLAIMS, ISSUER, TTL, keyWorld, type KeyWorld } from './security-fixtures';

function cached(world: KeyWorld, maxEntries = 100): JoseTokenService {
  return new JoseTokenService(world.keys, { issuer: ISSUER, audience: AUDIENCE, accessTokenTtlSeconds: TTL, verifiedCacheMaxEntries: maxEntries });
}

const claimsOf = (token: string, tokens: JoseTokenService) => tokens.verify(token) as Promise<VerifiedUserAccessClaims>;

describe('JoseTokenService: the verified-token cache', () => {
  let world: KeyWorld;
  let verifyCalls: jest.SpyInstance;
  beforeEach(async () => {
    world = await keyWorld();
    verifyCalls = jest.spyOn(globalThis.crypto.subtle, 'verify');
  });
  afterEach(() => verifyCalls.mockRestore());

  it('a hit skips the signature check; the cache is bounded (least recently used out)', async () => {
    const tokens = cached(world, 2);
    const [a, b, c] = await Promise.all([1, 2, 3].map((n) => world.tokens.sign({ ...CLAIMS, sub: `user-${n}` }).then((s) => s.token)));
    await tokens.verify(a!);
    await tokens.verify(b!);
    const afterTwo = verifyCalls.mock.calls.length;
    expect(afterTwo).toBe(2);
    await tokens.verify(a!);
    await tokens.verify(b!);
    expect(verifyCalls.mock.calls.length).toBe(afterTwo);
    await tokens.verify(c!); // evicts a (b was used more recently)
    await tokens.verify(b!);
    expect(verifyCalls.mock.calls.length).toBe(afterTwo + 1);
    await tokens.verify(a!);
    expect(verifyCalls.mock.calls.length).toBe(afterTwo + 2);
  });

  it('a remembered token is refused once it expires (exp plus the 60 s tolerance), as without the cache', async () => {
    const tokens = cached(world);
    const { token } = await world.tokens.sign(CLAIMS);
    await tokens.verify(token);
    world.clock.advanceSeconds(TTL + 59);
    await expect(tokens.verify(token)).resolves.toMatchObject({ sub: CLAIMS.sub });
    world.clock.advanceSeconds(1);
    await expect(tokens.verify(token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it('a remembered token is refused at once when its key is no longer published (removed from the store)', async () => {
    const tokens = cached(world);
    const { token } = await world.tokens.sign(CLAIMS);
    await tokens.verify(token);
    const kid = world.keys.activeKey().kid;
    await world.keys.rotate();
    await expect(tokens.verify(token)).resolves.toBeDefined(); // retired, still published: still valid
    await world.repository.delete(kid);
    await world.keys.reload();
    await expect(tokens.verify(token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it('never answers for a token that differs from a remembered one in any part', async () => {
    const tokens = cached(world);
    const { token } = await world.tokens.sign(CLAIMS);
    await tokens.verify(token);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), roles: ['admin'] })).toString('base64url');
    await expect(tokens.verify(`${header}.${forged}.${signature}`)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await expect(tokens.verify(`${token}x`)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it('hands each caller its own claims', async () => {
    const tokens = cached(world);
    const { token } = await world.tokens.sign(CLAIMS);
    const first = await claimsOf(token, tokens);
    first.roles.push('admin');
    first.sub = 'someone-else';
    const second = await claimsOf(token, tokens);
    expect([second.sub, second.roles]).toEqual([CLAIMS.sub, CLAIMS.roles]);
  });
});
