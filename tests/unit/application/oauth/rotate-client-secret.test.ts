import type { ServiceClient } from '@domain/client/service-client';
import type { ServiceClientRepository } from '@domain/client/service-client.repository';
import { RotateClientSecret } from '@application/oauth/rotate-client-secret';
import { PORTS } from '@application/ports/tokens';
import type { UnitOfWork } from '@application/ports/unit-of-work';
import { createKit } from '../support/test-kit';

type Kit = Awaited<ReturnType<typeof createKit>>;

/** A kit (in-memory tables, a clock the test moves) with one client registered as the CLI registers it. */
async function registered() {
  const kit = await createKit();
  const { client, secret } = await kit.useCases.CreateClient.execute({ name: 'billing', scopes: 'orders:read orders:write' });
  const secrets = kit.resolve(PORTS.ClientSecrets);
  const rotate = (revokeTokens = false) => kit.useCases.RotateClientSecret.execute({ id: client.id, revokeTokens });
  const authenticate = (clientSecret: string) => kit.useCases.AuthenticateClient.execute({ clientId: client.id, clientSecret });
  /** POST /oauth/token: client authentication, then the grant. */
  const token = async (clientSecret: string) =>
    (await kit.useCases.IssueClientToken.execute({ client: await authenticate(clientSecret), grantType: 'client_credentials' })).accessToken;
  const active = async (accessToken: string) => (await kit.useCases.IntrospectToken.execute({ token: accessToken })).active;
  return { kit, client, secret, secrets, rotate, authenticate, token, active };
}

/**
 * The kit's unit of work, with `meanwhile` run right after the rotation has read the client: what another
 * rotation or a deletion committing between the read and the write would leave. (Through the transaction's own
 * repositories: in memory, transactions run one at a time, so nothing else could get in between.)
 */
function racedBy(kit: Kit, meanwhile: (clients: ServiceClientRepository, read: ServiceClient) => Promise<unknown>): UnitOfWork {
  return {
    runIfUnchanged: (user, work) => kit.uow.runIfUnchanged(user, work),
    runInserts: (work) => kit.uow.runInserts(work), // neither form is used by the client use cases
    run: (work) =>
      kit.uow.run((repos) => {
        const inner = repos.clients;
        let raced = false;
        const clients: ServiceClientRepository = {
          add: (client) => inner.add(client),
          findById: async (id) => {
            const read = await inner.findById(id);
            if (read && !raced) {
              raced = true;
              await meanwhile(inner, read);
            }
            return read;
          },
          listActive: () => inner.listActive(),
          delete: (id, now) => inner.delete(id, now),
          replaceSecret: (rotated, expectedHash) => inner.replaceSecret(rotated, expectedHash),
          recordUse: (id, now) => inner.recordUse(id, now),
        };
        return work({ ...repos, clients });
      }),
  };
}

describe('RotateClientSecret', () => {
  it('gives the client a new secret, made as create-client makes one: the new one authenticates, the old one is invalid_client', async () => {
    const { client, secret, rotate, authenticate } = await registered();
    const rotated = await rotate();
    expect(rotated.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(rotated.secret).not.toBe(secret);
    expect(rotated.tokensRevoked).toBe(false);
    await expect(authenticate(rotated.secret)).resolves.toMatchObject({ id: client.id, name: 'billing', scopes: ['orders:read', 'orders:write'] });
    await expect(authenticate(secret)).rejects.toMatchObject({ error: 'invalid_client' });
  });

  it('stores the new secret only as its digest (the same kind of digest create-client stores)', async () => {
    const { kit, client, secrets, rotate } = await registered();
    const { secret } = await rotate();
    const stored = (await kit.repos.clients.findById(client.id))!;
    expect(stored.secretHash).not.toBe(client.secretHash);
    expect(stored.secretHash.split('.').slice(0, 2)).toEqual(client.secretHash.split('.').slice(0, 2));
    expect(secrets.matches(secret, stored.secretHash)).toBe(true);
    expect(JSON.stringify([...kit.db.tables.clients.values()])).not.toContain(secret);
  });

  it('answers an unknown or deleted client NOT_FOUND, as delete-client does, changing and auditing nothing', async () => {
    const { kit, client, secret, rotate, authenticate } = await registered();
    await expect(kit.useCases.RotateClientSecret.execute({ id: 'no-such-client', revokeTokens: true })).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'No such client.' });
    await kit.useCases.DeleteClient.execute({ id: client.id });
    await expect(rotate(true)).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'No such client.' });
    expect(kit.auditTypes()).not.toContain('client.secret_rotated');
    expect((await kit.repos.clients.findById(client.id))?.secretHash).toBe(client.secretHash);
    await expect(authenticate(secret)).rejects.toMatchObject({ error: 'invalid_client' });
  });

  it('--revoke-tokens: tokens issued before the rotation introspect inactive, those of the new secret active, to the second', async () => {
    const { kit, secret, rotate, token, active } = await registered();
    kit.clock.set(new Date('2026-01-01T00:00:09.000Z'));
    const earlier = await token(secret); // iat 09
    kit.clock.set(new Date('2026-01-01T00:00:10.200Z'));
    const sameSecond = await token(secret); // iat 10, old secret
    kit.clock.set(new Date('2026-01-01T00:00:10.500Z'));
    const rotated = await rotate(true);
    expect(rotated.tokensRevoked).toBe(true);
    expect(rotated.client.tokensValidAfter).toEqual(new Date('2026-01-01T00:00:10.500Z'));
    kit.clock.set(new Date('2026-01-01T00:00:10.700Z'));
    const newInSameSecond = await token(rotated.secret); // iat 10, new secret
    kit.clock.set(new Date('2026-01-01T00:00:11.000Z'));
    const newLater = await token(rotated.secret);
    expect(await active(earlier)).toBe(false);
    expect(await active(newInSameSecond)).toBe(true);
    expect(await active(newLater)).toBe(true);
    // The documented window: a token of the old secret issued earlier in the rotation's own second stays active.
    expect(await active(sameSecond)).toBe(true);
  });

  it('without --revoke-tokens the tokens issued before stay active (until they expire)', async () => {
    const { kit, secret, rotate, token, active } = await registered();
    const before = await token(secret);
    kit.clock.advance(5);
    const rotated = await rotate(false);
    expect(rotated.client.tokensValidAfter).toBeNull();
    expect(await active(before)).toBe(true);
    kit.clock.advance(900 + 60);
    expect(await active(before)).toBe(false); // expired (ACCESS_TOKEN_TTL 900 s in the kit, 60 s of clock skew)
  });

  it('a later rotation without --revoke-tokens keeps an earlier cut-off', async () => {
    const { kit, secret, rotate, token, active } = await registered();
    const old = await token(secret);
    kit.clock.advance(2);
    await rotate(true);
    kit.clock.advance(2);
    const again = await rotate(false);
    expect(again.client.tokensValidAfter).toEqual(new Date('2026-01-01T00:00:02.000Z'));
    expect(await active(old)).toBe(false);
  });

  it('a token request authenticated with the old secret just before the rotation committed gets no token (invalid_client)', async () => {
    const { kit, secret, rotate, authenticate } = await registered();
    const authenticated = await authenticate(secret); // read the old digest
    await rotate(true); // commits before the grant signs and answers
    await expect(kit.useCases.IssueClientToken.execute({ client: authenticated, grantType: 'client_credentials' })).rejects.toMatchObject({ error: 'invalid_client' });
    // And one authenticated with the new secret meanwhile is served.
    const fresh = await rotate(false);
    await expect(kit.useCases.IssueClientToken.execute({ client: await authenticate(fresh.secret), grantType: 'client_credentials' })).resolves.toMatchObject({ scope: 'orders:read orders:write' });
  });

  it('replaces the secret only if it is still the one it read: a rotation that lost the race fails with CONFLICT and writes no entry', async () => {
    const { kit, client } = await registered();
    const other = kit.resolve(PORTS.ClientSecrets).create();
    const raced = racedBy(kit, (clients, read) => clients.replaceSecret(read.withNewSecret(other.hash, kit.clock.now(), false), read.secretHash));
    const rotate = new RotateClientSecret(raced, kit.resolve(PORTS.ClientSecrets), kit.clock);
    await expect(rotate.execute({ id: client.id, revokeTokens: true })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('Another rotation') });
    expect(kit.auditTypes()).not.toContain('client.secret_rotated');
  });

  it('a client deleted between the read and the write is NOT_FOUND', async () => {
    const { kit, client } = await registered();
    const raced = racedBy(kit, (clients) => clients.delete(client.id, kit.clock.now()));
    const rotate = new RotateClientSecret(raced, kit.resolve(PORTS.ClientSecrets), kit.clock);
    await expect(rotate.execute({ id: client.id, revokeTokens: false })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
