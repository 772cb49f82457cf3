import { ADAPTERS, type Store } from '../../support/persistence';
import { aSession, at, aUser } from '../../support/mothers';

/** The UnitOfWork contract: all or nothing, aggregates and their outbox events together, on every adapter. */
describe.each(ADAPTERS)('UnitOfWork on $name', (adapter) => {
  let store: Store;

  beforeAll(async () => {
    store = await adapter.start();
  });
  afterAll(async () => store?.stop());

  const eventsOf = async (subject: string) => (await store.outbox()).filter((row) => row.subject === subject).map((row) => row.type).sort();

  it('commits aggregates and their outbox events together and returns what the work returned', async () => {
    const user = aUser();
    const session = aSession(user.id);
    session.revoke(at('2026-01-03T00:00:00.000Z'), 'logout');
    const result = await store.uow.run(async (tx) => {
      await tx.users.add(user);
      await tx.sessions.add(session);
      return 'done';
    });
    expect(result).toBe('done');
    await expect(store.repos.users.findById(user.id)).resolves.not.toBeNull();
    await expect(store.repos.sessions.findById(session.id)).resolves.not.toBeNull();
    await expect(eventsOf(user.id)).resolves.toEqual(['auth.session.revoked', 'auth.user.registered']);
  });

  it('rolls back rows and outbox events together when the work throws', async () => {
    const user = aUser();
    const session = aSession(user.id);
    const failure = new Error('boom after saving');
    await expect(
      store.uow.run(async (tx) => {
        await tx.users.add(user);
        await tx.sessions.add(session);
        // Another connection does not see uncommitted rows (one connection or one transaction at a time: asking would wait).
        if (adapter.parallel) await expect(store.repos.users.findById(user.id)).resolves.toBeNull();
        throw failure;
      }),
    ).rejects.toBe(failure);
    await expect(store.repos.users.findById(user.id)).resolves.toBeNull();
    await expect(store.repos.sessions.findById(session.id)).resolves.toBeNull();
    await expect(eventsOf(user.id)).resolves.toEqual([]);
  });

  it('rolls back earlier writes when a later add hits a uniqueness error', async () => {
    const existing = aUser();
    await store.uow.run((tx) => tx.users.add(existing));
    const fresh = aUser();
    await expect(
      store.uow.run(async (tx) => {
        await tx.users.add(fresh);
        await tx.users.add(aUser({ email: existing.email }));
      }),
    ).rejects.toMatchObject({ code: 'EMAIL_ALREADY_REGISTERED' });
    await expect(store.repos.users.findById(fresh.id)).resolves.toBeNull();
    await expect(eventsOf(fresh.id)).resolves.toEqual([]);
  });
});
