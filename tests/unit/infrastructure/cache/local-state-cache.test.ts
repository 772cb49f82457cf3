import type { UserState } from '@domain/user/user';
import { BoundedLru } from '@infrastructure/cache/local/bounded-lru';
import { InProcessInvalidationLink, UnreachableInvalidationLink, type InvalidatedKeys, type InvalidationLink } from '@infrastructure/cache/local/invalidation-link';
import { LocalStateCache } from '@infrastructure/cache/local/local-state-cache';

/** A link the test drives: trusted or not, what it was asked to publish, and the other instances' messages. */
class ScriptedLink implements InvalidationLink {
  up = true;
  failPublish = false;
  published: InvalidatedKeys[] = [];
  private handlers: Parameters<InvalidationLink['listen']>[0] | null = null;
  trusted(): boolean {
    return this.up;
  }
  async publish(keys: InvalidatedKeys): Promise<void> {
    if (this.failPublish) throw new Error('redis down');
    this.published.push(keys);
  }
  listen(handlers: Parameters<InvalidationLink['listen']>[0]): void {
    this.handlers = handlers;
  }
  async close(): Promise<void> {}
  /** Another instance's announcement. */
  receive(keys: InvalidatedKeys): void {
    this.handlers?.invalidate(keys);
  }
  /** Down, then confirmed again. */
  reconnect(): void {
    this.up = true;
    this.handlers?.reestablished();
  }
}

const live = (userId = 'u1') => ({ userId, expiresAt: new Date('2030-01-01T00:00:00Z'), revoked: false });

function userState(id: string, status: UserState['status'] = 'active'): UserState {
  const at = new Date('2026-01-01T00:00:00Z');
  return {
    id,
    email: `${id}@example.com`,
    pendingEmail: null,
    username: null,
    firstName: 'Ada',
    lastName: null,
    status,
    emailVerified: true,
    roles: ['user'],
    mfaEnabled: false,
    credentials: { byType: { password: { type: 'password', hash: '$argon2id$x', changedAt: at } }, failedAttempts: 0, lockedUntil: null },
    createdAt: at,
    updatedAt: at,
    lastLoginAt: null,
    invitedBy: null,
  };
}

function setup(options: { maxEntries?: number; ttlMs?: number; maxInvalidationRecords?: number } = {}) {
  let now = 1_000;
  const link = new ScriptedLink();
  const cache = new LocalStateCache(link, { maxEntries: 100, ttlMs: 10_000, now: () => now, ...options });
  return { cache, link, advance: (ms: number) => void (now += ms) };
}

describe('BoundedLru', () => {
  it('keeps at most maxEntries, dropping the least recently used', () => {
    const lru = new BoundedLru<string, number>(3, () => 0);
    for (const [i, key] of ['a', 'b', 'c'].entries()) lru.set(key, i, 10);
    expect(lru.get('a')).toBe(0); // a is now the most recent
    lru.set('d', 3, 10);
    expect([lru.get('a'), lru.get('b'), lru.get('c'), lru.get('d'), lru.size]).toEqual([0, undefined, 2, 3, 3]);
    for (let i = 0; i < 1000; i += 1) lru.set(`k${i}`, i, 10);
    expect(lru.size).toBe(3);
  });

  it('never returns an entry past its deadline, and stores nothing already expired or with no room at all', () => {
    let now = 0;
    const lru = new BoundedLru<string, string>(10, () => now);
    lru.set('a', 'x', 100);
    now = 99;
    expect(lru.get('a')).toBe('x');
    now = 100;
    expect(lru.get('a')).toBeUndefined();
    lru.set('b', 'y', 100);
    expect(lru.get('b')).toBeUndefined();
    const none = new BoundedLru<string, string>(0, () => 0);
    none.set('a', 'x', 100);
    expect(none.get('a')).toBeUndefined();
  });
});

describe('LocalStateCache', () => {
  it('serves what it stored, bounded in size and expiring after the TTL', () => {
    const { cache, advance } = setup({ maxEntries: 2, ttlMs: 5_000 });
    const mark = cache.startRead()!;
    cache.putSession(mark, 's1', live());
    cache.putSession(mark, 's2', live());
    cache.putSession(mark, 's3', live());
    expect([cache.session('s1'), cache.session('s2')?.userId, cache.session('s3')?.userId]).toEqual([null, 'u1', 'u1']);
    expect(cache.size.sessions).toBe(2);
    advance(4_999);
    expect(cache.session('s3')).not.toBeNull();
    advance(1);
    expect(cache.session('s3')).toBeNull();
  });

  it('a copy of a shared-cache entry never outlives that entry', () => {
    const { cache, advance } = setup({ ttlMs: 10_000 });
    cache.putSession(cache.startRead()!, 's1', { ...live(), remainingMs: 1_500 });
    advance(1_499);
    expect(cache.session('s1')).not.toBeNull();
    advance(1);
    expect(cache.session('s1')).toBeNull();
  });

  it('does not store a result read before an invalidation of that key (here or announced by another instance)', async () => {
    const { cache, link } = setup();
    for (let round = 0; round < 20; round += 1) {
      const ids = [`s${round}a`, `s${round}b`];
      const early = cache.startRead()!;
      // One invalidation is this instance's commit, the other an announcement from another instance.
      await cache.invalidate({ sessions: [ids[0]!], users: [`u${round}`] });
      link.receive({ sessions: [ids[1]!], users: [] });
      for (const id of ids) cache.putSession(early, id, live());
      cache.putUser(early, `u${round}`, userState(`u${round}`));
      expect([cache.session(ids[0]!), cache.session(ids[1]!), cache.user(`u${round}`)]).toEqual([null, null, null]);
      // A read that started after the invalidation saw the new state: it may be stored.
      const late = cache.startRead()!;
      cache.putSession(late, ids[0]!, { ...live(), revoked: true });
      expect(cache.session(ids[0]!)?.revoked).toBe(true);
    }
    // An invalidation of another key does not stop a store.
    const mark = cache.startRead()!;
    link.receive({ sessions: ['other'], users: [] });
    cache.putSession(mark, 'mine', live());
    expect(cache.session('mine')).not.toBeNull();
  });

  it('keeps its invalidation records bounded; a read older than a forgotten record stores nothing', async () => {
    const { cache } = setup({ maxInvalidationRecords: 2 });
    const early = cache.startRead()!;
    await cache.invalidate({ sessions: ['a', 'b', 'c'], users: [] }); // the record of `a` is dropped
    cache.putSession(early, 'a', live());
    cache.putSession(early, 'z', live()); // never invalidated, but the read is older than what was forgotten
    expect([cache.session('a'), cache.session('z')]).toEqual([null, null]);
    const late = cache.startRead()!;
    cache.putSession(late, 'a', live());
    expect(cache.session('a')).not.toBeNull();
  });

  it('is bypassed while the link is not trusted: nothing served, nothing stored', () => {
    const { cache, link } = setup();
    const mark = cache.startRead()!;
    cache.putSession(mark, 's1', live());
    cache.putUser(mark, 'u1', userState('u1'));
    link.up = false;
    expect([cache.startRead(), cache.session('s1'), cache.user('u1')]).toEqual([null, null, null]);
    cache.putSession(mark, 's2', live());
    link.up = true;
    expect(cache.session('s2')).toBeNull();
  });

  it('drops everything when the link is re-established, and refuses reads started before', () => {
    const { cache, link } = setup();
    const before = cache.startRead()!;
    cache.putSession(before, 's1', live());
    cache.putUser(before, 'u1', userState('u1'));
    link.up = false;
    link.reconnect(); // announcements sent while it was down may be lost
    expect([cache.session('s1'), cache.user('u1')]).toEqual([null, null]);
    cache.putSession(before, 's2', live());
    expect(cache.session('s2')).toBeNull();
    const after = cache.startRead()!;
    cache.putSession(after, 's2', live());
    expect(cache.session('s2')).not.toBeNull();
  });

  it('hands out copies of a frozen snapshot: a caller cannot change the cached user', () => {
    const { cache } = setup();
    const state = userState('u1');
    cache.putUser(cache.startRead()!, 'u1', state);
    state.status = 'suspended'; // the caller's own object, after storing
    const first = cache.user('u1') as UserState;
    first.status = 'suspended';
    first.roles.push('admin');
    first.createdAt.setTime(0);
    const second = cache.user('u1')!;
    expect([second.status, second.roles, second.createdAt.toISOString()]).toEqual(['active', ['user'], '2026-01-01T00:00:00.000Z']);
    cache.putSession(cache.startRead()!, 's1', live());
    expect(Object.isFrozen(cache.session('s1'))).toBe(true);
  });

  it('announces invalidations through the link; a failed announcement rejects but the local entry is gone', async () => {
    const { cache, link } = setup();
    cache.putSession(cache.startRead()!, 's1', live());
    await cache.invalidate({ sessions: ['s1'], users: ['u1'] });
    expect(link.published).toEqual([{ sessions: ['s1'], users: ['u1'] }]);
    cache.putSession(cache.startRead()!, 's2', live());
    link.failPublish = true;
    await expect(cache.invalidate({ sessions: ['s2'], users: [] })).rejects.toThrow('redis down');
    expect(cache.session('s2')).toBeNull();
  });

  it('is off with 0 entries or a 0 TTL, and never trusted without a way to hear other instances', () => {
    for (const options of [{ maxEntries: 0 }, { ttlMs: 0 }]) expect(setup(options).cache.startRead()).toBeNull();
    const unreachable = new LocalStateCache(new UnreachableInvalidationLink(), { maxEntries: 100, ttlMs: 10_000 });
    expect(unreachable.startRead()).toBeNull();
    const embedded = new LocalStateCache(new InProcessInvalidationLink(), { maxEntries: 100, ttlMs: 10_000 });
    expect(embedded.startRead()).not.toBeNull();
  });
});
