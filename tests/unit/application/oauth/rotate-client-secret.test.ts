import type { ServiceClient } from '@domain/client/service-client';
import type { ServiceClientRepository } from '@domain/client/service-client.repository';
import { IssueClientToken } from '@application/oauth/issue-client-token';
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

/** After `n` turns of the event loop. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i += 1) await new Promise((resolve) => setImmediate(resolve));
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

  it("--revoke-tokens: tokens issued in the rotation's second or before introspect inactive, the old secret's signed just before it committed too", async () => {
    const { kit, secret, rotate, token, active } = await registered();
    kit.clock.set(new Date('2026-01-01T00:00:09.000Z'));
    const earlier = await token(secret); // iat 09
    kit.clock.set(new Date('2026-01-01T00:00:10.200Z'));
    const sameSecond = await token(secret); // iat 10, old secret: signed (and checked again) before the rotation commits
    kit.clock.set(new Date('2026-01-01T00:00:10.500Z'));
    const rotated = await rotate(true);
    expect(rotated.tokensRevoked).toBe(true);
    expect(rotated.client.tokensValidAfter).toEqual(new Date('2026-01-01T00:00:10.500Z'));
    expect(await active(earlier)).toBe(false);
    // The leaked secret's token of the cut-off's own second: its iat cannot tell it from the new secret's.
    expect(await active(sameSecond)).toBe(false);
  });

  it("--revoke-tokens: the new secret's token asked for in the rotation's second is signed in the next one (never ahead of the clock), and is active", async () => {
    const { kit, rotate, token, active } = await registered();
    kit.clock.set(new Date('2026-01-01T00:00:10.500Z'));
    const rotated = await rotate(true);
    kit.clock.set(new Date('2026-01-01T00:00:10.700Z'));
    const newInSameSecond = await token(rotated.secret);
    // The request waited for the second to end: the kit's clock moves itself there (ManualClock.waitUntil), and the
    // token was signed then, at the clock's time, not dated ahead of it.
    expect(kit.clock.now()).toEqual(new Date('2026-01-01T00:00:11.000Z'));
    const claims = await kit.tokens.verify(newInSameSecond);
    expect({ iat: claims.iat, nbf: claims.nbf }).toEqual({ iat: Date.parse('2026-01-01T00:00:11Z') / 1000, nbf: Date.parse('2026-01-01T00:00:11Z') / 1000 });
    expect(await active(newInSameSecond)).toBe(true);
    // Later ones wait for nothing.
    kit.clock.set(new Date('2026-01-01T00:00:12.300Z'));
    const later = await token(rotated.secret);
    expect(kit.clock.now()).toEqual(new Date('2026-01-01T00:00:12.300Z'));
    expect(await active(later)).toBe(true);
  });

  it('--revoke-tokens: no token that would introspect inactive is handed out: a clock behind the cut-off, or one that does not move, gets SERVICE_UNAVAILABLE', async () => {
    const { kit, client, rotate, authenticate, token, active } = await registered();
    kit.clock.set(new Date('2026-01-01T00:00:10.500Z'));
    const rotated = await rotate(true);
    const used = (await kit.repos.clients.findById(client.id))?.lastUsedAt;
    // Set by a host whose clock is ahead: this one is still in an earlier second, 1.2 s short of the first one accepted.
    kit.clock.set(new Date('2026-01-01T00:00:09.800Z'));
    await expect(token(rotated.secret)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 2 });
    expect(kit.clock.now()).toEqual(new Date('2026-01-01T00:00:09.800Z')); // no wait for what no wait would reach
    // A clock that does not move while waited on (no waitUntil of its own: real timers, 10 ms here).
    kit.clock.set(new Date('2026-01-01T00:00:10.990Z'));
    const frozen = { now: () => kit.clock.now() };
    const issue = new IssueClientToken(kit.tokens, kit.repos.clients, frozen);
    await expect(issue.execute({ client: await authenticate(rotated.secret), grantType: 'client_credentials' })).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 1 });
    expect((await kit.repos.clients.findById(client.id))?.lastUsedAt).toEqual(used); // nothing handed out, no use recorded
    // Once the clock is past the cut-off's second, the same requests are served.
    kit.clock.set(new Date('2026-01-01T00:00:11.000Z'));
    expect(await active(await token(rotated.secret))).toBe(true);
    await expect(issue.execute({ client: await authenticate(rotated.secret), grantType: 'client_credentials' })).resolves.toMatchObject({ scope: 'orders:read orders:write' });
  });

  it('--revoke-tokens racing bursts of token requests with the old secret: none of the tokens handed out introspects active', async () => {
    const { kit, active } = await registered();
    const outcomes = { issued: 0, refused: 0 };
    for (let round = 0; round < 5; round += 1) {
      // A client of its own each round (no earlier cut-off), the clock inside one second throughout the round.
      kit.clock.set(new Date(Date.parse('2026-01-01T00:01:00.500Z') + round * 10_000));
      const { client, secret } = await kit.useCases.CreateClient.execute({ name: `racer-${round}`, scopes: 'orders:read' });
      // Request j starts j turns of the event loop in, the rotation 5 turns in: some are served before it commits,
      // some authenticate before it and sign after it, some come after it.
      const request = async (j: number) => {
        await turns(j);
        const authenticated = await kit.useCases.AuthenticateClient.execute({ clientId: client.id, clientSecret: secret });
        return (await kit.useCases.IssueClientToken.execute({ client: authenticated, grantType: 'client_credentials' })).accessToken;
      };
      const requests = Array.from({ length: 10 }, (_, j) => request(j).then((token) => ({ token }), (error: unknown) => ({ error })));
      const rotation = turns(5).then(() => kit.useCases.RotateClientSecret.execute({ id: client.id, revokeTokens: true }));
      const [settled] = await Promise.all([Promise.all(requests), rotation]);
      for (const outcome of settled) {
        if ('token' in outcome) {
          outcomes.issued += 1;
          expect(await active(outcome.token)).toBe(false);
        } else {
          outcomes.refused += 1;
          expect(outcome.error).toMatchObject({ error: 'invalid_client' });
        }
      }
    }
    // The race was run: some requests were served before the rotation committed, some refused after it.
    expect(outcomes.issued).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
    expect(outcomes.issued + outcomes.refused).toBe(50);
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
