import { randomUUID } from 'node:crypto';
import type { PresentedToken, Session } from '@domain/session/session';
import { OutboxEventRecord, RefreshTokenHistoryRecord } from '@infrastructure/persistence/typeorm/entities';
import {
  TypeOrmUnitOfWork,
  typeOrmRepositories,
  type TypeOrmRepositories,
} from '@infrastructure/persistence/typeorm/typeorm-unit-of-work';
import { backends, type TestDatabase } from './support/backends';
import { aSession, aTokenHash, aUser, at, lifetimes } from './support/fixtures';
import { testRepositoryOptions } from '../../support/repository-options';

const t0 = at('2026-01-02T03:04:05.678Z');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(backends)('TypeOrmSessionRepository on $name', (backend) => {
  let db: TestDatabase;
  let repos: TypeOrmRepositories;
  let uow: TypeOrmUnitOfWork;

  beforeAll(async () => {
    db = await backend.start();
    repos = typeOrmRepositories(db.dataSource.manager, testRepositoryOptions());
    uow = new TypeOrmUnitOfWork(db.dataSource, testRepositoryOptions());
  });
  afterAll(async () => {
    await db?.stop();
  });

  async function savedSession(now = t0): Promise<Session> {
    const user = aUser();
    await repos.users.add(user);
    const session = aSession(user.id, now);
    await repos.sessions.add(session);
    return session;
  }

  function rotate(session: Session, now: Date): string {
    const next = aTokenHash();
    session.rotate({ refreshTokenHash: next, sealedRefreshToken: `sealed-${next}` }, now, lifetimes);
    return next;
  }

  const lookup = (hash: string) => uow.run((tx) => tx.sessions.findByRefreshTokenHashForUpdate(hash));

  it('round-trips a session through save and findById', async () => {
    const session = await savedSession();
    const found = await repos.sessions.findById(session.id);
    expect(found?.toState()).toEqual(session.toState());
    await expect(repos.sessions.findById(randomUUID())).resolves.toBeNull();
  });

  it('finds a session by its current, previous and retired refresh-token hashes', async () => {
    const session = await savedSession();
    const h0 = session.toState().refreshTokenHash;
    const h1 = rotate(session, at('2026-01-02T04:00:00.000Z'));
    const h2 = rotate(session, at('2026-01-02T05:00:00.000Z'));
    await repos.sessions.save(session);

    const presented = async (hash: string): Promise<[string | undefined, PresentedToken | undefined]> => {
      const match = await lookup(hash);
      return [match?.session.id, match?.presented];
    };
    await expect(presented(h2)).resolves.toEqual([session.id, 'current']);
    await expect(presented(h1)).resolves.toEqual([session.id, 'previous']);
    await expect(presented(h0)).resolves.toEqual([session.id, 'retired']);
    await expect(lookup(aTokenHash())).resolves.toBeNull();
    const history = await db.dataSource.manager.findBy(RefreshTokenHistoryRecord, { sessionId: session.id });
    expect(history).toEqual([{ tokenHash: h0, sessionId: session.id, retiredAt: at('2026-01-02T05:00:00.000Z') }]);
  });

  it('refuses to lock outside a unit of work', async () => {
    const session = await savedSession();
    await expect(repos.sessions.findByRefreshTokenHashForUpdate(session.toState().refreshTokenHash)).rejects.toThrow();
  });

  it('lists the active sessions of a user, newest first', async () => {
    const user = aUser();
    await repos.users.add(user);
    const older = aSession(user.id, at('2026-01-01T00:00:00.000Z'));
    const newer = aSession(user.id, at('2026-01-05T00:00:00.000Z'));
    const revoked = aSession(user.id, at('2026-01-06T00:00:00.000Z'));
    revoked.revoke(at('2026-01-06T01:00:00.000Z'), 'logout');
    const expired = aSession(user.id, at('2025-10-01T00:00:00.000Z')); // idle lifetime ends 2025-10-31
    const someoneElses = await savedSession(at('2026-01-04T00:00:00.000Z'));
    for (const session of [older, newer, revoked, expired]) await repos.sessions.add(session);

    const active = await repos.sessions.findActiveByUser(user.id, at('2026-01-10T00:00:00.000Z'));
    expect(active.map((s) => s.id)).toEqual([newer.id, older.id]);
    expect(active.map((s) => s.id)).not.toContain(someoneElses.id);
  });

  it('writes the revocation event to the outbox on save', async () => {
    const session = await savedSession();
    session.revoke(at('2026-01-03T00:00:00.000Z'), 'refresh_token_reuse');
    await repos.sessions.save(session);
    const rows = await db.dataSource.manager.findBy(OutboxEventRecord, { type: 'auth.session.revoked', subject: session.userId });
    expect(rows.map((r) => r.payload.data)).toEqual([
      { user_id: session.userId, session_id: session.id, reason: 'refresh_token_reuse' },
    ]);
    await expect(repos.sessions.findById(session.id)).resolves.toMatchObject({ revokedAt: at('2026-01-03T00:00:00.000Z') });
  });

  it('serialises 20 concurrent refreshes of one token: one rotates, the others see it as previous', async () => {
    const session = await savedSession();
    const presentedHash = session.toState().refreshTokenHash;
    const now = at('2026-01-02T06:00:00.000Z');

    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () =>
        uow.run(async (tx) => {
          const match = await tx.sessions.findByRefreshTokenHashForUpdate(presentedHash);
          if (!match) return { presented: 'none', token: '' };
          await sleep(5); // hold the lock so that the others queue behind it
          const token = match.presented === 'current' ? rotate(match.session, now) : match.session.toState().refreshTokenHash;
          await tx.sessions.save(match.session);
          return { presented: match.presented, token };
        }),
      ),
    );

    expect(outcomes.filter((o) => o.presented === 'current')).toHaveLength(1);
    expect(outcomes.filter((o) => o.presented === 'previous')).toHaveLength(19);
    expect(new Set(outcomes.map((o) => o.token)).size).toBe(1); // everyone ends up with the same new token
    const stored = (await repos.sessions.findById(session.id))?.toState();
    expect(stored).toMatchObject({ refreshTokenHash: outcomes[0]?.token, previousTokenHash: presentedHash });
  });

  it('serialises 20 concurrent rotations of one session without losing any', async () => {
    const session = await savedSession();
    const first = session.toState().refreshTokenHash;

    const presented = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        uow.run(async (tx) => {
          const match = await tx.sessions.findByRefreshTokenHashForUpdate(first);
          if (!match) throw new Error('session not found');
          await sleep(2);
          rotate(match.session, new Date(t0.getTime() + (i + 1) * 1000));
          await tx.sessions.save(match.session);
          return match.presented;
        }),
      ),
    );

    const count = (kind: PresentedToken): number => presented.filter((p) => p === kind).length;
    expect([count('current'), count('previous'), count('retired')]).toEqual([1, 1, 18]);
    // 20 rotations: the first hash and 18 successors are retired, one is previous, one is current.
    await expect(db.dataSource.manager.countBy(RefreshTokenHistoryRecord, { sessionId: session.id })).resolves.toBe(19);
    const stored = (await repos.sessions.findById(session.id))?.toState();
    const retired = await db.dataSource.manager.findBy(RefreshTokenHistoryRecord, { sessionId: session.id });
    const all = new Set([...retired.map((r) => r.tokenHash), stored?.previousTokenHash, stored?.refreshTokenHash]);
    expect(all.size).toBe(21);
    expect(all.has(first)).toBe(true);
  });
});
