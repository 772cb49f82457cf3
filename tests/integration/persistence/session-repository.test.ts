import { randomUUID } from 'node:crypto';
import type { PresentedToken, Session } from '@domain/session/session';
import { Role } from '@domain/user/role';
import type { User } from '@domain/user/user';
import { ADAPTERS, type Store } from '../../support/persistence';
import { aSession, at, aTokenHash, aUser, rotated, T0 } from '../../support/mothers';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The SessionRepository contract (DESIGN 8a), through the port only, on every adapter. */
describe.each(ADAPTERS)('SessionRepository on $name', (adapter) => {
  let store: Store;

  beforeAll(async () => {
    store = await adapter.start();
  });
  afterAll(async () => store?.stop());

  async function aUserId(): Promise<string> {
    const user = aUser();
    await store.uow.run((tx) => tx.users.add(user));
    return user.id;
  }

  function anAdmin(): User {
    const user = aUser();
    user.changeRoles(Role.list(['user', 'admin']), T0, user.id);
    user.pullEvents();
    return user;
  }

  async function added(now = T0): Promise<Session> {
    const session = aSession(await aUserId(), { now });
    await store.uow.run((tx) => tx.sessions.add(session));
    return session;
  }

  const stored = async (id: string) => (await store.repos.sessions.findById(id))?.toState() ?? null;
  const lookup = (hash: string) => store.uow.run((tx) => tx.sessions.findByRefreshTokenHashForUpdate(hash));

  it('adds a session and finds it by id; unknown and malformed ids find nothing', async () => {
    const session = await added();
    await expect(store.repos.sessions.findById(session.id)).resolves.toMatchObject({ id: session.id });
    expect((await store.repos.sessions.findById(session.id))!.toState()).toEqual(session.toState());
    // A uuid column: capitals name the same row.
    expect((await store.repos.sessions.findById(session.id.toUpperCase()))!.toState()).toEqual(session.toState());
    await expect(store.repos.sessions.findById(randomUUID())).resolves.toBeNull();
    await expect(store.repos.sessions.findById('not-a-uuid')).resolves.toBeNull();
    await expect(store.uow.run((tx) => tx.sessions.findByIdForUpdate('not-a-uuid'))).resolves.toBeNull();
  });

  it('add inserts: a duplicate id fails, and so does a session of a user that does not exist', async () => {
    const session = await added();
    await expect(store.uow.run((tx) => tx.sessions.add(session))).rejects.toThrow();
    await expect(store.uow.run((tx) => tx.sessions.add(aSession(randomUUID())))).rejects.toThrow();
  });

  it('finds a session by its current, previous and retired refresh-token hashes', async () => {
    const session = aSession(await aUserId());
    const h0 = session.toState().refreshTokenHash;
    const h1 = rotated(session, at('2026-01-02T04:00:00.000Z'));
    const h2 = rotated(session, at('2026-01-02T05:00:00.000Z'));
    await store.uow.run((tx) => tx.sessions.add(session));

    const presented = async (hash: string): Promise<[string | undefined, PresentedToken | undefined]> => {
      const match = await lookup(hash);
      return [match?.session.id, match?.presented];
    };
    await expect(presented(h2)).resolves.toEqual([session.id, 'current']);
    await expect(presented(h1)).resolves.toEqual([session.id, 'previous']);
    await expect(presented(h0)).resolves.toEqual([session.id, 'retired']);
    await expect(lookup(aTokenHash())).resolves.toBeNull();
    // Its owner, without a lock, for each of the three (the locked path takes the account's lock first).
    const owner = session.toState().userId;
    for (const hash of [h2, h1, h0]) await expect(store.uow.run((tx) => tx.sessions.findOwnerOfRefreshToken(hash))).resolves.toBe(owner);
    await expect(store.repos.sessions.findOwnerOfRefreshToken(h0)).resolves.toBe(owner);
    await expect(store.repos.sessions.findOwnerOfRefreshToken(aTokenHash())).resolves.toBeNull();
  });

  if (adapter.kind === 'sql') {
    it('refuses to lock outside a unit of work (the in-memory adapter cannot tell)', async () => {
      const session = await added();
      await expect(store.repos.sessions.findByRefreshTokenHashForUpdate(session.toState().refreshTokenHash)).rejects.toThrow();
    });
  }

  it('lists the active sessions of a user newest first, without revoked, expired or other users\' sessions', async () => {
    const userId = await aUserId();
    const older = aSession(userId, { now: at('2026-01-01T00:00:00.000Z') });
    const newer = aSession(userId, { now: at('2026-01-05T00:00:00.000Z') });
    const revoked = aSession(userId, { now: at('2026-01-06T00:00:00.000Z') });
    revoked.revoke(at('2026-01-06T01:00:00.000Z'), 'logout');
    const expired = aSession(userId, { now: at('2025-10-01T00:00:00.000Z') }); // idle lifetime ends 2025-10-31
    const someoneElses = await added(at('2026-01-04T00:00:00.000Z'));
    await store.uow.run(async (tx) => {
      for (const session of [older, revoked, newer, expired]) await tx.sessions.add(session);
    });
    const now = at('2026-01-10T00:00:00.000Z');

    const active = await store.repos.sessions.findActiveByUser(userId, now);
    expect(active.map((s) => s.id)).toEqual([newer.id, older.id]);
    expect(active.map((s) => s.id)).not.toContain(someoneElses.id);
    expect(active.map((s) => s.toState())).toEqual([newer.toState(), older.toState()]);
    await expect(store.repos.sessions.findActiveByUser('not-a-uuid', now)).resolves.toEqual([]);
    const locked = await store.uow.run(async (tx) => (await tx.sessions.findActiveByUserForUpdate(userId, now)).map((s) => s.id));
    expect(locked).toEqual([newer.id, older.id]);
  });

  it('hasActiveBeyond and findActiveBeyondForUpdate: the active sessions past the newest `keep`, in the list\'s order, locked (SESSION_MAX_PER_USER)', async () => {
    const userId = await aUserId();
    const sessions = [1, 2, 3, 4].map((day) => aSession(userId, { now: at(`2026-01-0${day}T00:00:00.000Z`) }));
    const revoked = aSession(userId, { now: at('2026-01-05T00:00:00.000Z') });
    revoked.revoke(at('2026-01-05T01:00:00.000Z'), 'logout');
    await added(at('2026-01-06T00:00:00.000Z')); // someone else's
    await store.uow.run(async (tx) => {
      for (const session of [...sessions, revoked]) await tx.sessions.add(session);
    });
    const now = at('2026-01-10T00:00:00.000Z');
    const newestFirst = [...sessions].reverse().map((s) => s.id);
    const beyond = async (keep: number) => store.uow.run(async (tx) => (await tx.sessions.findActiveBeyondForUpdate(userId, keep, now)).map((s) => s.id));
    for (const keep of [0, 1, 3, 4, 10]) {
      await expect(store.repos.sessions.hasActiveBeyond(userId, keep, now)).resolves.toBe(keep < 4);
      await expect(beyond(keep)).resolves.toEqual(newestFirst.slice(keep));
    }
    await expect(store.repos.sessions.hasActiveBeyond('not-a-uuid', 0, now)).resolves.toBe(false);
    // Locked: they can be revoked and saved in that unit of work.
    await store.uow.run(async (tx) => {
      for (const session of await tx.sessions.findActiveBeyondForUpdate(userId, 2, now)) {
        session.revoke(now, 'session_limit');
        await tx.sessions.save(session);
      }
    });
    expect((await store.repos.sessions.findActiveByUser(userId, now)).map((s) => s.id)).toEqual(newestFirst.slice(0, 2));
  });

  it('orders sessions started at the same instant by id', async () => {
    const userId = await aUserId();
    const twins = [aSession(userId), aSession(userId), aSession(userId)];
    await store.uow.run(async (tx) => {
      for (const session of twins) await tx.sessions.add(session);
    });
    const ids = (await store.repos.sessions.findActiveByUser(userId, T0)).map((s) => s.id);
    expect(ids).toEqual(twins.map((s) => s.id).sort());
  });

  it('save updates a session locked by id, by refresh-token hash or in the active list, and one added in the same unit of work', async () => {
    const [byId, byHash, byList] = [await added(), await added(), await added()];
    const revokedAt = at('2026-01-03T00:00:00.000Z');
    await store.uow.run(async (tx) => {
      const a = (await tx.sessions.findByIdForUpdate(byId.id))!;
      const b = (await tx.sessions.findByRefreshTokenHashForUpdate(byHash.toState().refreshTokenHash))!.session;
      const [c] = await tx.sessions.findActiveByUserForUpdate(byList.userId, T0);
      for (const session of [a, b, c!]) {
        session.revoke(revokedAt, 'logout');
        await tx.sessions.save(session);
      }
      const fresh = aSession(byId.userId);
      await tx.sessions.add(fresh);
      fresh.revoke(revokedAt, 'logout');
      await tx.sessions.save(fresh);
    });
    for (const session of [byId, byHash, byList]) {
      await expect(stored(session.id)).resolves.toMatchObject({ revokedAt, revokeReason: 'logout' });
    }
    await expect(store.repos.sessions.findActiveByUser(byId.userId, T0)).resolves.toEqual([]);
  });

  it('save refuses a session read without a lock, or locked in another unit of work', async () => {
    const session = await added();
    const plain = (await store.repos.sessions.findById(session.id))!;
    plain.revoke(at('2026-01-03T00:00:00.000Z'), 'logout');
    await expect(store.uow.run((tx) => tx.sessions.save(plain))).rejects.toThrow(/FOR UPDATE/);
    const elsewhere = (await store.uow.run((tx) => tx.sessions.findByIdForUpdate(session.id)))!;
    elsewhere.revoke(at('2026-01-03T00:00:00.000Z'), 'logout');
    await expect(store.uow.run((tx) => tx.sessions.save(elsewhere))).rejects.toThrow(/FOR UPDATE/);
    await expect(store.repos.sessions.findById(session.id)).resolves.toMatchObject({ revokedAt: null });
  });

  it('save of a session whose row is gone throws and never inserts it again', async () => {
    const session = await added();
    await store.uow.run(async (tx) => {
      const locked = (await tx.sessions.findByIdForUpdate(session.id))!;
      const owner = (await tx.users.findByIdForUpdate(session.userId))!;
      owner.markDeleted(T0);
      await tx.users.delete(owner); // the sessions go with the account
      locked.revoke(at('2026-01-03T00:00:00.000Z'), 'account_deleted');
      await expect(tx.sessions.save(locked)).rejects.toThrow();
    });
    await expect(store.repos.sessions.findById(session.id)).resolves.toBeNull();
  });

  it('writes only the changed columns: a second copy that changed another field does not undo the first', async () => {
    const session = await added();
    const rotatedAt = at('2026-01-02T06:00:00.000Z');
    const next = await store.uow.run(async (tx) => {
      const a = (await tx.sessions.findByIdForUpdate(session.id))!;
      const b = (await tx.sessions.findByIdForUpdate(session.id))!;
      const hash = rotated(a, rotatedAt);
      await tx.sessions.save(a);
      b.revoke(rotatedAt, 'logout');
      await tx.sessions.save(b);
      return hash;
    });
    await expect(store.repos.sessions.findById(session.id)).resolves.toMatchObject({ revokedAt: rotatedAt });
    expect((await store.repos.sessions.findById(session.id))!.toState()).toMatchObject({ refreshTokenHash: next });
  });

  it('writes the revocation event to the outbox on save', async () => {
    const session = await added();
    await store.uow.run(async (tx) => {
      const locked = (await tx.sessions.findByIdForUpdate(session.id))!;
      locked.revoke(at('2026-01-03T00:00:00.000Z'), 'refresh_token_reuse');
      await tx.sessions.save(locked);
    });
    const rows = (await store.outbox()).filter((row) => row.type === 'auth.session.revoked' && row.subject === session.userId);
    expect(rows.map((row) => row.payload.data)).toEqual([{ user_id: session.userId, session_id: session.id, reason: 'refresh_token_reuse' }]);
    expect(rows.map((row) => row.createdAt)).toEqual([at('2026-01-03T00:00:00.000Z')]);
  });

  it('serialises 20 concurrent refreshes of one token: one rotates, the others see it as previous', async () => {
    const session = await added();
    const presentedHash = session.toState().refreshTokenHash;
    const now = at('2026-01-02T06:00:00.000Z');

    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () =>
        store.uow.run(async (tx) => {
          const match = await tx.sessions.findByRefreshTokenHashForUpdate(presentedHash);
          if (!match) return { presented: 'none', token: '' };
          await sleep(5); // hold the lock so that the others queue behind it
          const token = match.presented === 'current' ? rotated(match.session, now) : match.session.toState().refreshTokenHash;
          await tx.sessions.save(match.session);
          return { presented: match.presented, token };
        }),
      ),
    );

    expect(outcomes.filter((o) => o.presented === 'current')).toHaveLength(1);
    expect(outcomes.filter((o) => o.presented === 'previous')).toHaveLength(19);
    expect(new Set(outcomes.map((o) => o.token)).size).toBe(1);
    const stored = (await store.repos.sessions.findById(session.id))?.toState();
    expect(stored).toMatchObject({ refreshTokenHash: outcomes[0]?.token, previousTokenHash: presentedHash });
  });

  it('finds a session by its current or previous refresh-token hash (not a retired one), with its user, outside a unit of work', async () => {
    const session = aSession(await aUserId());
    const h0 = session.toState().refreshTokenHash;
    const h1 = rotated(session, at('2026-01-02T04:00:00.000Z'));
    const h2 = rotated(session, at('2026-01-02T05:00:00.000Z'));
    await store.uow.run((tx) => tx.sessions.add(session));
    const found = await store.repos.sessions.findByRefreshTokenHash(h2);
    expect(found?.session.toState()).toEqual({ ...session.toState(), retiredTokenHashes: [] });
    expect(found?.user?.id).toBe(session.userId);
    expect(found?.user?.credentials.passwordHash).toEqual(expect.any(String));
    expect(found?.presented).toBe('current');
    const previous = await store.repos.sessions.findByRefreshTokenHash(h1);
    expect([previous?.session.id, previous?.presented, previous?.user?.id]).toEqual([session.id, 'previous', session.userId]);
    for (const hash of [h0, aTokenHash()]) await expect(store.repos.sessions.findByRefreshTokenHash(hash)).resolves.toBeNull();
  });

  it('saveIfCurrent writes a rotation and its retired hash only while the row still holds the expected token', async () => {
    const session = aSession(await aUserId());
    rotated(session, at('2026-01-02T04:00:00.000Z'));
    await store.uow.run((tx) => tx.sessions.add(session));
    const h1 = session.toState().previousTokenHash!;
    const h2 = session.toState().refreshTokenHash;
    const first = (await store.repos.sessions.findByRefreshTokenHash(h2))!.session;
    const second = (await store.repos.sessions.findByRefreshTokenHash(h2))!.session;
    const h3 = rotated(first, at('2026-01-02T05:00:00.000Z'));
    rotated(second, at('2026-01-02T05:00:01.000Z'));
    await expect(store.repos.sessions.saveIfCurrent(first, h2, T0)).resolves.toBe(true);
    // The second copy read the same row before the first wrote: its compare fails, nothing of it is written.
    await expect(store.repos.sessions.saveIfCurrent(second, h2, T0)).resolves.toBe(false);
    expect(await stored(session.id)).toMatchObject({ refreshTokenHash: h3, previousTokenHash: h2, rotatedAt: at('2026-01-02T05:00:00.000Z') });
    await expect(lookup(h1)).resolves.toMatchObject({ presented: 'retired', session: { id: session.id } });
    await expect(lookup(h2)).resolves.toMatchObject({ presented: 'previous' });

    // A revoked session is not rotated, even by a copy read before the revocation.
    const stale = (await store.repos.sessions.findByRefreshTokenHash(h3))!.session;
    await store.uow.run(async (tx) => {
      const match = await tx.sessions.findByRefreshTokenHashForUpdate(h3);
      match!.session.revoke(at('2026-01-02T05:30:00.000Z'), 'logout');
      await tx.sessions.save(match!.session);
    });
    rotated(stale, at('2026-01-02T06:00:00.000Z'));
    await expect(store.repos.sessions.saveIfCurrent(stale, h3, T0)).resolves.toBe(false);
    expect(await stored(session.id)).toMatchObject({ refreshTokenHash: h3, revokeReason: 'logout' });
    // Never a session with events (those go to the outbox in a unit of work), nor one it did not read.
    const other = await added();
    const otherHash = other.toState().refreshTokenHash;
    const revoking = (await store.repos.sessions.findByRefreshTokenHash(otherHash))!.session;
    revoking.revoke(at('2026-01-02T07:00:00.000Z'), 'logout');
    await expect(store.repos.sessions.saveIfCurrent(revoking, otherHash, T0)).rejects.toThrow();
    expect(await stored(other.id)).toMatchObject({ revokedAt: null });
    await expect(store.repos.sessions.saveIfCurrent(aSession(session.userId), h3, T0)).rejects.toThrow();
  });

  it('saveIfCurrent writes nothing once the stored expiry is not after `liveAt` (a review of stop 60)', async () => {
    const session = await added();
    const hash = session.toState().refreshTokenHash;
    const expiresAt = (await stored(session.id))!.expiresAt as Date;
    const before = await stored(session.id);
    for (const liveAt of [expiresAt, new Date(expiresAt.getTime() + 1)]) {
      const read = (await store.repos.sessions.findByRefreshTokenHash(hash))!;
      rotated(read.session, new Date(expiresAt.getTime() - 1000));
      await expect(store.repos.sessions.saveIfCurrent(read.session, hash, liveAt)).resolves.toBe(false);
      expect(await stored(session.id)).toEqual(before);
    }
    // A millisecond before the expiry it still writes.
    const read = (await store.repos.sessions.findByRefreshTokenHash(hash))!;
    const next = rotated(read.session, new Date(expiresAt.getTime() - 1000));
    await expect(store.repos.sessions.saveIfCurrent(read.session, hash, new Date(expiresAt.getTime() - 1))).resolves.toBe(true);
    expect(await stored(session.id)).toMatchObject({ refreshTokenHash: next, previousTokenHash: hash });
  });

  it('fenceRefreshes: a compare-and-set that read a session before the fence writes nothing; its values, revoked and other users\' sessions stay', async () => {
    const user = anAdmin();
    await store.uow.run((tx) => tx.users.add(user));
    const [session, revoked, others] = [aSession(user.id), aSession(user.id), aSession(await aUserId())];
    revoked.revoke(at('2026-01-02T03:00:00.000Z'), 'logout');
    revoked.pullEvents();
    for (const s of [session, revoked, others]) await store.uow.run((tx) => tx.sessions.add(s));
    const hash = session.toState().refreshTokenHash;
    const read = (await store.repos.sessions.findByRefreshTokenHash(hash))!;
    const readOther = (await store.repos.sessions.findByRefreshTokenHash(others.toState().refreshTokenHash))!;
    const before = await Promise.all([session, revoked, others].map((s) => stored(s.id)));
    await store.uow.run((tx) => tx.sessions.fenceRefreshes(user.id));
    expect(await Promise.all([session, revoked, others].map((s) => stored(s.id)))).toEqual(before);
    rotated(read.session, at('2026-01-02T05:00:00.000Z'));
    await expect(store.repos.sessions.saveIfCurrent(read.session, hash, T0)).resolves.toBe(false);
    expect(await stored(session.id)).toEqual(before[0]);
    // Another user's session was not fenced; and a read after the fence writes.
    rotated(readOther.session, at('2026-01-02T05:00:00.000Z'));
    await expect(store.repos.sessions.saveIfCurrent(readOther.session, others.toState().refreshTokenHash, T0)).resolves.toBe(true);
    const again = (await store.repos.sessions.findByRefreshTokenHash(hash))!;
    const next = rotated(again.session, at('2026-01-02T05:00:01.000Z'));
    await expect(store.repos.sessions.saveIfCurrent(again.session, hash, T0)).resolves.toBe(true);
    expect(await stored(session.id)).toMatchObject({ refreshTokenHash: next, previousTokenHash: hash });
    await expect(store.uow.run((tx) => tx.sessions.fenceRefreshes('not-a-uuid'))).resolves.toBeUndefined();
  });

  if (adapter.name === 'PostgreSQL server') {
    it('saveIfCurrent waits for a fence in flight, then writes nothing (five rounds)', async () => {
      for (let round = 0; round < 5; round += 1) {
        const user = anAdmin();
        await store.uow.run((tx) => tx.users.add(user));
        const session = aSession(user.id);
        await store.uow.run((tx) => tx.sessions.add(session));
        const hash = session.toState().refreshTokenHash;
        const read = (await store.repos.sessions.findByRefreshTokenHash(hash))!;
        rotated(read.session, at('2026-01-02T05:00:00.000Z'));
        let release!: () => void;
        const held = new Promise<void>((resolve) => {
          release = resolve;
        });
        let fenced!: () => void;
        const fencing = new Promise<void>((resolve) => {
          fenced = resolve;
        });
        // A role change that has fenced the sessions and not yet committed.
        const change = store.uow.run(async (tx) => {
          await tx.sessions.fenceRefreshes(user.id);
          fenced();
          await held;
        });
        await fencing;
        let settled = false;
        const saving = store.repos.sessions.saveIfCurrent(read.session, hash, T0).finally(() => {
          settled = true;
        });
        await sleep(150);
        expect(settled).toBe(false);
        release();
        await change;
        await expect(saving).resolves.toBe(false);
        expect(await stored(session.id)).toMatchObject({ refreshTokenHash: hash });
      }
    });
  }

  it('of 20 concurrent compare-and-set rotations of one token exactly one is written', async () => {
    const session = await added();
    const presented = session.toState().refreshTokenHash;
    const results = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const found = await store.repos.sessions.findByRefreshTokenHash(presented);
        if (!found) return { saved: false, hash: '' };
        const hash = rotated(found.session, new Date(T0.getTime() + (i + 1) * 1000));
        return { saved: await store.repos.sessions.saveIfCurrent(found.session, presented, T0), hash };
      }),
    );
    const winners = results.filter((r) => r.saved);
    expect(winners).toHaveLength(1);
    expect(await stored(session.id)).toMatchObject({ refreshTokenHash: winners[0]!.hash, previousTokenHash: presented });
  });

  it('serialises 20 concurrent rotations of one session without losing any', async () => {
    const session = await added();
    const first = session.toState().refreshTokenHash;

    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.uow.run(async (tx) => {
          const match = await tx.sessions.findByRefreshTokenHashForUpdate(first);
          if (!match) throw new Error('session not found');
          await sleep(2);
          const hash = rotated(match.session, new Date(T0.getTime() + (i + 1) * 1000));
          await tx.sessions.save(match.session);
          return { presented: match.presented, hash };
        }),
      ),
    );

    const count = (kind: PresentedToken): number => results.filter((r) => r.presented === kind).length;
    expect([count('current'), count('previous'), count('retired')]).toEqual([1, 1, 18]);
    // Every hash handed out but the newest two is retired: each still finds the session, as 'retired'.
    const stored = (await store.repos.sessions.findById(session.id))!.toState();
    const retired = [first, ...results.map((r) => r.hash)].filter((h) => h !== stored.refreshTokenHash && h !== stored.previousTokenHash);
    expect(retired).toHaveLength(19);
    for (const hash of retired) await expect(lookup(hash)).resolves.toMatchObject({ presented: 'retired', session: { id: session.id } });
  });
});
