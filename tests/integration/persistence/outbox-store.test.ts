import { ADAPTERS, type Store } from '../../support/persistence';
import { Role } from '@domain/user/role';
import { aSession, aUser } from '../../support/mothers';

const T0 = new Date('2026-03-01T12:00:00.000Z');
const publishAll = async (events: { id: string }[]) => ({ confirmed: events.map((e) => e.id), failed: [] });

/** The relay's OutboxStore and the subscribers' ProcessedEvents: one contract for every adapter. */
describe.each(ADAPTERS)('relay storage on $name', (adapter) => {
  let store: Store;

  const END = new Date('9999-01-01T00:00:00.000Z');

  beforeAll(async () => {
    store = await adapter.start();
  });
  afterAll(async () => store?.stop());
  beforeEach(async () => {
    // Every case starts with an empty outbox and no processed-event records.
    while ((await store.outboxStore.processBatch(1000, T0, publishAll)).claimed > 0);
    await store.outboxStore.purgePublished(END);
    await store.outboxStore.purgeProcessed(END);
  });

  /** `count` users registered one second apart (each writes one auth.user.registered row). */
  const commit = async (count: number, at = T0): Promise<void> => {
    for (let i = 0; i < count; i += 1) {
      const user = aUser({ now: new Date(at.getTime() + i * 1000) });
      await store.uow.run((tx) => tx.users.add(user));
    }
  };

  it('claims the oldest pending rows, marks the confirmed ones and counts an attempt with the error on the others', async () => {
    await commit(4);
    const before = await store.outbox();
    const outcome = await store.outboxStore.processBatch(3, T0, async (events) => {
      expect(events.map((e) => e.id)).toEqual(before.slice(0, 3).map((r) => r.id));
      expect(events[0]).toEqual(before[0]!.payload);
      return { confirmed: [events[0]!.id, events[2]!.id], failed: [{ id: events[1]!.id, error: 'nacked' }] };
    });
    expect(outcome).toEqual({ claimed: 3, published: 2 });
    const after = await store.outbox();
    expect(after.map((r) => [r.publishedAt?.toISOString() ?? null, r.attempts, r.lastError])).toEqual([
      [T0.toISOString(), 1, null],
      [null, 1, 'nacked'],
      [T0.toISOString(), 1, null],
      [null, 0, null],
    ]);
    await expect(store.outboxStore.pendingStats()).resolves.toEqual({ pending: 2, oldestCreatedAt: before[1]!.createdAt });
  });

  it('a refused row gets its retry time and is skipped until then: the rows behind it are claimed (outside review, 2026-12-05)', async () => {
    await commit(4);
    const ids = (await store.outbox()).map((r) => r.id);
    const retryAt = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
    const asked: unknown[] = [];
    const refuseFirst = async (events: { id: string }[]) => ({ confirmed: [], failed: [{ id: events[0]!.id, error: 'nacked' }] });
    await store.outboxStore.processBatch(1, T0, refuseFirst, (refused) => (asked.push(refused), retryAt(10)));
    expect(asked).toEqual([{ id: ids[0], type: 'auth.user.registered', attempts: 1, error: 'nacked' }]);
    await store.outboxStore.processBatch(1, T0, refuseFirst, () => retryAt(5));

    const claimedAt = async (now: Date) => {
      const claimed: string[] = [];
      await store.outboxStore.processBatch(10, now, async (events) => (claimed.push(...events.map((e) => e.id)), { confirmed: [], failed: [] }));
      return claimed;
    };
    // Never refused first, oldest first; a refused row once its time has come, earliest retry time first.
    await expect(claimedAt(T0)).resolves.toEqual([ids[2], ids[3]]);
    await expect(claimedAt(retryAt(5))).resolves.toEqual([ids[2], ids[3], ids[1]]);
    await expect(claimedAt(retryAt(10))).resolves.toEqual([ids[2], ids[3], ids[1], ids[0]]);
    expect((await store.outbox()).map((r) => [r.attempts, r.lastError])).toEqual([[1, 'nacked'], [1, 'nacked'], [0, null], [0, null]]);
    await expect(store.outboxStore.processBatch(10, retryAt(10), publishAll)).resolves.toEqual({ claimed: 4, published: 4 });
  });

  it('rows are timestamped by their event', async () => {
    const user = aUser({ now: T0 });
    const session = aSession(user.id, { now: T0 });
    session.revoke(T0, 'logout');
    await store.uow.run(async (tx) => {
      await tx.users.add(user);
      await tx.sessions.add(session);
    });
    expect((await store.outbox()).map((r) => r.createdAt)).toEqual([T0, T0]);
  });

  /**
   * Stop 51 (an outside review): the events of one commit share their instant (the use case's `now`), and the tie
   * went by id, a random UUID: an invitation with roles published `roles_changed` before `registered` about half
   * the time. They go out in the order they were recorded, across claims too, then the next commit's.
   */
  it('events of one commit that share their instant are claimed in the order they were recorded', async () => {
    const recordedIn = async (count: number): Promise<string[]> => {
      const users = Array.from({ length: count }, () => aUser({ now: T0 }));
      await store.uow.run(async (tx) => {
        for (const user of users) {
          // auth.user.registered, then auth.user.roles_changed: an invitation with roles
          user.changeRoles(Role.list(['user', 'admin']), T0, 'admin-1');
          await tx.users.add(user);
        }
      });
      return users.flatMap((user) => [`auth.user.registered ${user.id}`, `auth.user.roles_changed ${user.id}`]);
    };
    const expected = [...(await recordedIn(15)), ...(await recordedIn(5))];
    const claimed: string[] = [];
    const claimSome = (limit: number) =>
      store.outboxStore.processBatch(limit, T0, async (events) => {
        claimed.push(...events.map((e) => `${e.type} ${e.subject}`));
        return publishAll(events);
      });
    // In claims of 7: the order holds across claims, not only inside one.
    while ((await claimSome(7)).claimed > 0);
    expect(claimed).toEqual(expected);
    expect(new Set((await store.outbox()).map((r) => r.createdAt.toISOString()))).toEqual(new Set([T0.toISOString()]));
  });

  it("so are those of a login's one-statement write (runIfUnchanged) and of a registration's (runInserts)", async () => {
    const claimAll = async (): Promise<string[]> => {
      const claimed: string[] = [];
      await store.outboxStore.processBatch(100, T0, async (events) => {
        claimed.push(...events.map((e) => `${e.type} ${String((e.data as { roles?: string[] }).roles ?? '')}`));
        return publishAll(events);
      });
      return claimed;
    };
    const roles = [['user', 'admin'], ['user'], ['user', 'support'], ['user', 'support', 'admin'], ['user', 'admin']];
    const invited = aUser({ now: T0 });
    await store.uow.runInserts(async (tx) => {
      for (const set of roles) invited.changeRoles(Role.list(set), T0, 'admin-1');
      await tx.users.add(invited);
    });
    await expect(claimAll()).resolves.toEqual(['auth.user.registered ', ...roles.map((set) => `auth.user.roles_changed ${set.join(',')}`)]);

    const read = (await store.repos.users.findById(invited.id))!;
    const outcome = await store.uow.runIfUnchanged(read, async (tx) => {
      for (const set of [...roles].reverse()) read.changeRoles(Role.list(set), T0, 'admin-1');
      await tx.users.save(read);
    });
    expect(outcome.written).toBe(true);
    await expect(claimAll()).resolves.toEqual([...roles].reverse().flatMap((set, i) => (i === 0 ? [] : [`auth.user.roles_changed ${set.join(',')}`])));
  });

  it('a publish that throws (a crash) releases the claim and marks nothing', async () => {
    await commit(2);
    await expect(store.outboxStore.processBatch(10, T0, async () => Promise.reject(new Error('killed')))).rejects.toThrow('killed');
    expect((await store.outbox()).map((r) => [r.publishedAt, r.attempts])).toEqual([[null, 0], [null, 0]]);
    await expect(store.outboxStore.processBatch(10, T0, publishAll)).resolves.toEqual({ claimed: 2, published: 2 });
  });

  it('rows claimed by a running batch are skipped by another relay', async () => {
    await commit(3);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const claimedFirst = new Promise<void>((resolve) => (started = resolve));
    const first = store.outboxStore.processBatch(2, T0, async (events) => {
      started();
      await held;
      return publishAll(events);
    });
    await claimedFirst;
    const second = store.outboxStore.processBatch(10, T0, publishAll);
    if (adapter.kind === 'sql' && !adapter.parallel) {
      // One connection: the second relay waits for the first transaction to end, then finds the third row only.
      release();
    }
    const secondOutcome = await second;
    release();
    await expect(first).resolves.toEqual({ claimed: 2, published: 2 });
    expect(secondOutcome).toEqual({ claimed: 1, published: 1 });
    await expect(store.outboxStore.pendingStats()).resolves.toEqual({ pending: 0, oldestCreatedAt: null });
  });

  it('purges published rows older than the cut-off only', async () => {
    await commit(3);
    await store.outboxStore.processBatch(2, T0, publishAll);
    await expect(store.outboxStore.purgePublished(T0)).resolves.toBe(0);
    await expect(store.outboxStore.purgePublished(new Date(T0.getTime() + 1))).resolves.toBe(2);
    expect(await store.outbox()).toHaveLength(1);
  });

  it('processed events: the second record of one (subscriber, event) is refused, another subscriber may record it; old records are purged', async () => {
    const add = (subscriber: string, eventId: string, at: Date) => store.uow.run((tx) => tx.processedEvents.add(subscriber, eventId, at));
    await expect(add('mailer', 'evt-1', T0)).resolves.toBe(true);
    await expect(add('mailer', 'evt-1', T0)).resolves.toBe(false);
    await expect(add('audit', 'evt-1', T0)).resolves.toBe(true);
    await add('mailer', 'evt-2', new Date(T0.getTime() + 1000));
    await expect(store.outboxStore.purgeProcessed(new Date(T0.getTime() + 1))).resolves.toBe(2);
    await expect(add('mailer', 'evt-2', T0)).resolves.toBe(false); // the newer record stayed
    await expect(add('mailer', 'evt-1', T0)).resolves.toBe(true);
  });

  it('keeps the processed-event records of an event still waiting in the outbox (it may be delivered again), and only those', async () => {
    // A review of retries (stop 65): an event refused by one queue is sent again to all until every queue took it; a
    // record purged at the retention meanwhile let a subscriber handle it twice (a second security notice). By id, so
    // one event stuck for good holds back its own records only (a review of this stop's first fix, which held back
    // every record newer than the oldest waiting event).
    await commit(1, T0);
    const [waiting] = await store.outbox();
    const add = (eventId: string, at: Date) => store.uow.run((tx) => tx.processedEvents.add('mailer', eventId, at));
    await add(waiting!.id, new Date(T0.getTime() + 1000));
    await add('older-one', new Date(T0.getTime() - 1000));
    await add('newer-one', new Date(T0.getTime() + 2000));
    await expect(store.outboxStore.purgeProcessed(END)).resolves.toBe(2);
    await expect(add(waiting!.id, T0)).resolves.toBe(false);
    await expect(add('newer-one', T0)).resolves.toBe(true);
    // Once it is published, the retention alone counts.
    while ((await store.outboxStore.processBatch(1000, T0, publishAll)).claimed > 0);
    await expect(store.outboxStore.purgeProcessed(END)).resolves.toBe(2);
  });

  it('a processed-event record rolls back with its unit of work', async () => {
    const failure = new Error('the handler failed');
    await expect(
      store.uow.run(async (tx) => {
        await tx.processedEvents.add('mailer', 'evt-9', T0);
        throw failure;
      }),
    ).rejects.toBe(failure);
    await expect(store.uow.run((tx) => tx.processedEvents.add('mailer', 'evt-9', T0))).resolves.toBe(true);
  });
});
