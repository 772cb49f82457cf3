import { SignJWT } from 'jose';
import type { JWTPayload } from 'jose';
import { DomainError } from '@domain/shared/domain-error';
import { presentClaims } from '@interface/http/presenters/claims.presenter';
import { AUDIENCE, CLAIMS, ISSUER, TTL, decodePart, keyWorld, type KeyWorld } from './security-fixtures';

const SERVICE = { token_type: 'service', sub: 'client-7f3a', scope: 'users:read audit:read' } as const;

async function rejection(world: KeyWorld, token: string): Promise<unknown> {
  return world.tokens.verify(token).then(
    () => 'accepted',
    (e: unknown) => (e instanceof DomainError ? e.code : e),
  );
}

/** Signed with the real active key: only the payload a test writes can make it fail. */
async function signRaw(world: KeyWorld, payload: JWTPayload): Promise<string> {
  const key = world.keys.activeKey();
  const now = Math.floor(world.clock.now().getTime() / 1000);
  return new SignJWT({ iss: ISSUER, aud: AUDIENCE, jti: 'jti-1', iat: now, nbf: now, exp: now + TTL, ...payload })
    .setProtectedHeader({ alg: key.alg, typ: 'at+jwt', kid: key.kid })
    .sign(key.privateKey);
}

describe('access claims: user and service tokens', () => {
  let world: KeyWorld;
  beforeEach(async () => {
    world = await keyWorld();
  });

  it('a service token carries sub, token_type and scope, never a session, roles or user attributes', async () => {
    const leaky = { ...SERVICE, sid: 'session-1', roles: ['admin'], email: 'x@example.com' };
    const { token } = await world.tokens.sign(leaky);
    expect(Object.keys(decodePart(token, 1)).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'nbf', 'scope', 'sub', 'token_type']);
    await expect(world.tokens.verify(token)).resolves.toEqual({
      ...SERVICE,
      iss: ISSUER,
      aud: AUDIENCE,
      jti: expect.any(String),
      iat: expect.any(Number),
      nbf: expect.any(Number),
      exp: expect.any(Number),
    });
  });

  it('a user token still has no token_type claim, and verifies as a user token', async () => {
    const { token } = await world.tokens.sign(CLAIMS);
    expect(decodePart(token, 1)).not.toHaveProperty('token_type');
    const claims = await world.tokens.verify(token);
    expect(claims.token_type).toBeUndefined();
    expect(claims).toMatchObject(CLAIMS);
  });

  it('an empty scope is a service token without scopes', async () => {
    const { token } = await world.tokens.sign({ ...SERVICE, scope: '' });
    await expect(world.tokens.verify(token)).resolves.toMatchObject({ token_type: 'service', scope: '' });
  });

  it.each([
    ['a service token with a sid', { ...SERVICE, sid: 'session-1' }],
    ['a service token with roles', { ...SERVICE, roles: ['admin'] }],
    ['a service token with amr and email_verified', { ...SERVICE, amr: ['pwd'], email_verified: true }],
    ['a service token without scope', { token_type: 'service', sub: 'client-1' }],
    ['a service token whose scope is not a string', { ...SERVICE, scope: ['users:read'] }],
    ['a service token whose scope has a double space', { ...SERVICE, scope: 'a  b' }],
    ['a service token whose scope has a quote', { ...SERVICE, scope: 'a"b' }],
    ['a token_type other than service', { ...CLAIMS, token_type: 'admin' }],
    ['an explicit token_type user (user tokens have none)', { ...CLAIMS, token_type: 'user' }],
    ['a user token without sid', { ...CLAIMS, sid: undefined }],
    ['a service token without sub', { token_type: 'service', scope: 'a' }],
  ])('is INVALID_TOKEN: %s', async (_name, payload) => {
    const clean = Object.fromEntries(Object.entries(payload).filter(([, v]) => v !== undefined));
    await expect(rejection(world, await signRaw(world, clean))).resolves.toBe('INVALID_TOKEN');
  });

  it('the control: the same raw signer makes valid user and service tokens', async () => {
    await expect(rejection(world, await signRaw(world, CLAIMS))).resolves.toBe('accepted');
    await expect(rejection(world, await signRaw(world, SERVICE))).resolves.toBe('accepted');
  });

  it('the claims presenter copies each kind member by member', async () => {
    const service = await world.tokens.verify((await world.tokens.sign(SERVICE)).token);
    expect(Object.keys(presentClaims(service)).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'nbf', 'scope', 'sub', 'token_type']);
    const user = await world.tokens.verify((await world.tokens.sign(CLAIMS)).token);
    expect(Object.keys(presentClaims(user)).sort()).toEqual(['amr', 'aud', 'email_verified', 'exp', 'iat', 'iss', 'jti', 'nbf', 'roles', 'sid', 'sub']);
  });
});
