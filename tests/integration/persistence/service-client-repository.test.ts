import { ServiceClient } from '@domain/client/service-client';
import { ADAPTERS, type Store } from '../../support/persistence';

const at = (iso: string) => new Date(iso);

function aClient(id: string, createdAt: Date, scope = 'orders:read orders:write'): ServiceClient {
  return ServiceClient.register({ id, name: `client ${id}`, secretHash: `hmac-sha256.v1.digest-of-${id}`, scope }, createdAt);
}

/** The ServiceClientRepository contract on every adapter (in memory, PGlite, the PostgreSQL server). */
describe.each(ADAPTERS)('ServiceClientRepository on $name', (adapter) => {
  let store: Store;

  beforeAll(async () => {
    store = await adapter.start();
  });
  afterAll(async () => store?.stop());

  it('adds, finds by id and lists active clients oldest first (then by id)', async () => {
    const late = aClient('c-late', at('2026-01-03T00:00:00.000Z'));
    const early = aClient('c-early', at('2026-01-01T00:00:00.000Z'), '');
    const twinB = aClient('c-twin-b', at('2026-01-02T00:00:00.000Z'));
    const twinA = aClient('c-twin-a', at('2026-01-02T00:00:00.000Z'));
    for (const client of [late, twinB, early, twinA]) await store.clients.add(client);

    const found = await store.clients.findById('c-early');
    expect(found?.toState()).toEqual(early.toState());
    expect(found?.scopes).toEqual([]);
    expect((await store.clients.listActive()).map((c) => c.id)).toEqual(['c-early', 'c-twin-a', 'c-twin-b', 'c-late']);
  });

  it('answers null for unknown ids of any shape, never an error', async () => {
    for (const id of ['nope', '', 'x'.repeat(10_000), "'; DROP TABLE clients; --", '00000000-0000-0000-0000-000000000000', '\u0000']) {
      await expect(store.clients.findById(id)).resolves.toBeNull();
    }
  });

  it('refuses a second client with the same id', async () => {
    await store.clients.add(aClient('c-dup', at('2026-01-05T00:00:00.000Z')));
    await expect(store.clients.add(aClient('c-dup', at('2026-01-06T00:00:00.000Z')))).rejects.toThrow();
  });

  it('deletes softly and once: the client is still found (inactive) but no longer listed', async () => {
    await store.clients.add(aClient('c-del', at('2026-01-07T00:00:00.000Z')));
    await expect(store.clients.delete('c-del', at('2026-01-08T00:00:00.000Z'))).resolves.toBe(true);
    await expect(store.clients.delete('c-del', at('2026-01-09T00:00:00.000Z'))).resolves.toBe(false);
    await expect(store.clients.delete('unknown', at('2026-01-09T00:00:00.000Z'))).resolves.toBe(false);
    const deleted = await store.clients.findById('c-del');
    expect(deleted?.isActive()).toBe(false);
    expect(deleted?.toState().deletedAt).toEqual(at('2026-01-08T00:00:00.000Z'));
    expect((await store.clients.listActive()).map((c) => c.id)).not.toContain('c-del');
  });

  it('records use at most once a minute, and never on a deleted client', async () => {
    await store.clients.add(aClient('c-use', at('2026-01-10T00:00:00.000Z')));
    await store.clients.recordUse('c-use', at('2026-01-10T01:00:00.000Z'));
    await store.clients.recordUse('c-use', at('2026-01-10T01:00:30.000Z'));
    expect((await store.clients.findById('c-use'))?.lastUsedAt).toEqual(at('2026-01-10T01:00:00.000Z'));
    await store.clients.recordUse('c-use', at('2026-01-10T01:01:00.000Z'));
    expect((await store.clients.findById('c-use'))?.lastUsedAt).toEqual(at('2026-01-10T01:01:00.000Z'));
    await store.clients.delete('c-use', at('2026-01-10T02:00:00.000Z'));
    await store.clients.recordUse('c-use', at('2026-01-10T03:00:00.000Z'));
    expect((await store.clients.findById('c-use'))?.lastUsedAt).toEqual(at('2026-01-10T01:01:00.000Z'));
    await expect(store.clients.recordUse('unknown', at('2026-01-10T03:00:00.000Z'))).resolves.toBeUndefined();
  });

  it('replaces the secret by compare-and-set: only an active client still holding the digest read, with its cut-off', async () => {
    const client = aClient('c-rot', at('2026-01-12T00:00:00.000Z'));
    await store.clients.add(client);
    expect((await store.clients.findById('c-rot'))?.tokensValidAfter).toBeNull();
    const first = client.withNewSecret('hmac-sha256.v1.second', at('2026-01-12T01:00:00.123Z'), true);
    await expect(store.clients.replaceSecret(first, client.secretHash)).resolves.toBe(true);
    const stored = await store.clients.findById('c-rot');
    expect(stored?.toState()).toEqual({ ...client.toState(), secretHash: 'hmac-sha256.v1.second', tokensValidAfter: at('2026-01-12T01:00:00.123Z') });
    // A second replacement that read the first digest (a rotation that lost the race) changes nothing.
    const stale = client.withNewSecret('hmac-sha256.v1.third', at('2026-01-12T02:00:00.000Z'), false);
    await expect(store.clients.replaceSecret(stale, client.secretHash)).resolves.toBe(false);
    expect((await store.clients.findById('c-rot'))?.toState()).toEqual(stored?.toState());
    // Without a cut-off asked, the stored one stays (the entity carries it forward).
    await expect(store.clients.replaceSecret(stored!.withNewSecret('hmac-sha256.v1.fourth', at('2026-01-12T03:00:00.000Z'), false), 'hmac-sha256.v1.second')).resolves.toBe(true);
    expect((await store.clients.findById('c-rot'))?.toState()).toMatchObject({ secretHash: 'hmac-sha256.v1.fourth', tokensValidAfter: at('2026-01-12T01:00:00.123Z') });
    // Unknown, odd or deleted: false, nothing written.
    await expect(store.clients.replaceSecret(aClient('c-nope', at('2026-01-12T00:00:00.000Z')), 'hmac-sha256.v1.digest-of-c-nope')).resolves.toBe(false);
    const odd = ServiceClient.restore({ ...aClient('c-odd', at('2026-01-12T00:00:00.000Z')).toState(), id: '\u0000' });
    await expect(store.clients.replaceSecret(odd, 'x')).resolves.toBe(false);
    await expect(store.clients.findById('c-nope')).resolves.toBeNull();
    const current = (await store.clients.findById('c-rot'))!;
    await store.clients.delete('c-rot', at('2026-01-12T04:00:00.000Z'));
    await expect(store.clients.replaceSecret(current.withNewSecret('hmac-sha256.v1.fifth', at('2026-01-12T05:00:00.000Z'), true), current.secretHash)).resolves.toBe(false);
    expect((await store.clients.findById('c-rot'))?.secretHash).toBe('hmac-sha256.v1.fourth');
  });

  it('hands out copies: changing a found client changes nothing stored', async () => {
    await store.clients.add(aClient('c-copy', at('2026-01-11T00:00:00.000Z')));
    const found = await store.clients.findById('c-copy');
    (found!.scopes as string[]).push('admin');
    expect((await store.clients.findById('c-copy'))?.scopes).toEqual(['orders:read', 'orders:write']);
  });
});
