import { randomUUID } from 'node:crypto';
import type { Repositories } from '@application/ports/unit-of-work';
import type { OneTimeToken } from '@domain/token/one-time-token';
import type { User } from '@domain/user/user';
import { ADAPTERS, type Store } from '../../support/persistence';
import { A_PASSWORD_HASH, aOneTimeToken, aSession, anAuditEntry, aVerifiedUser } from '../../support/mothers';

/**
 * UnitOfWork.runInserts, registration's write, on every adapter: a new user with its credentials, a session, the
 * user's event and an audit entry are written together (one statement on PostgreSQL), and nothing at all when
 * the email or the username is taken, whoever took it first, or when the work fails.
 */
describe.each(ADAPTERS)('UnitOfWork.runInserts on $name', (adapter) => {
  let store: Store;

  beforeAll(async () => {
    store = await adapter.start();
  });
  afterAll(async () => store?.stop());

  /** What registration writes: the user, a session, an audit entry (and the user's registered event). */
  function register(user: User, sessionId = randomUUID()) {
    return async (tx: Repositories) => {
      await tx.users.add(user);
      await tx.sessions.add(aSession(user.id, { id: sessionId }));
      await tx.audit.record(anAuditEntry({ type: 'user.registered', outcome: 'success', subjectId: user.id, reason: null, requestId: sessionId }));
      return sessionId;
    };
  }

  async function traces(userId: string, sessionId: string) {
    const stored = await store.repos.users.findById(userId);
    const session = await store.repos.sessions.findById(sessionId);
    const events = (await store.outbox()).filter((row) => row.subject === userId && row.type === 'auth.user.registered');
    const audit = (await store.auditEntries()).filter((entry) => entry.requestId === sessionId);
    return { user: stored !== null, passwordHash: stored?.credentials.passwordHash ?? null, session: session !== null, events: events.length, audit: audit.length };
  }

  const NOTHING = { user: false, passwordHash: null, session: false, events: 0, audit: 0 };

  it('writes the user with its password, the session, the event and the audit entry together', async () => {
    const user = aVerifiedUser();
    const sessionId = await store.uow.runInserts(register(user));
    await expect(traces(user.id, sessionId)).resolves.toEqual({ user: true, passwordHash: A_PASSWORD_HASH, session: true, events: 1, audit: 1 });
    const byEmail = await store.repos.users.findByEmail(user.email);
    expect(byEmail?.id).toBe(user.id);
  });

  it.each([
    ['an email', 'EMAIL_ALREADY_REGISTERED', (taken: User) => aVerifiedUser({ email: taken.email })],
    ['a username', 'USERNAME_TAKEN', (taken: User) => aVerifiedUser({ username: taken.username! })],
  ])('%s already taken: %s, and nothing of the work written', async (_what, code, clash) => {
    const taken = aVerifiedUser();
    await store.uow.run((tx) => tx.users.add(taken));
    const user = clash(taken);
    const sessionId = randomUUID();
    await expect(store.uow.runInserts(register(user, sessionId))).rejects.toMatchObject({ code });
    await expect(traces(user.id, sessionId)).resolves.toEqual(NOTHING);
  });

  it('a work that throws after adding writes nothing', async () => {
    const user = aVerifiedUser();
    const sessionId = randomUUID();
    await expect(
      store.uow.runInserts(async (tx) => {
        await register(user, sessionId)(tx);
        throw new Error('the token could not be signed');
      }),
    ).rejects.toThrow('the token could not be signed');
    await expect(traces(user.id, sessionId)).resolves.toEqual(NOTHING);
  });

  it.each([
    ['one email', 'EMAIL_ALREADY_REGISTERED', (key: string) => aVerifiedUser({ email: `race.${key}@example.com` })],
    ['one username', 'USERNAME_TAKEN', (key: string) => aVerifiedUser({ username: `race_${key.slice(0, 8)}` })],
  ])('parallel registrations of %s: exactly one is written whole, every other is %s (rounds of 8)', async (_what, code, racer) => {
    for (let round = 0; round < 5; round++) {
      const key = randomUUID();
      const users = Array.from({ length: 8 }, () => racer(key));
      const sessionIds = users.map(() => randomUUID());
      const outcomes = await Promise.allSettled(users.map((user, i) => store.uow.runInserts(register(user, sessionIds[i]))));
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      for (const outcome of outcomes) if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ code });
      const all = await Promise.all(users.map((user, i) => traces(user.id, sessionIds[i]!)));
      expect(all.filter((trace) => trace.user && trace.session && trace.events === 1 && trace.audit === 1)).toHaveLength(1);
      expect(all.filter((trace) => trace.user || trace.session || trace.events > 0 || trace.audit > 0)).toHaveLength(1);
    }
  });
});

/**
 * Every adapter enforces what the port asks of the work: the SQL one's repositories send no statement of their own,
 * and the in-memory one refuses the same calls (since stop 65: it allowed them, a review of adapter parity).
 */
describe.each(ADAPTERS)('UnitOfWork.runInserts on $name: the work sends nothing itself', (adapter) => {
  let store: Store;

  beforeAll(async () => {
    store = await adapter.start();
  });
  afterAll(async () => store?.stop());

  it.each([
    ['a read', (tx: Repositories, user: User) => tx.users.findByEmail(user.email), 'a guarded write sends one statement at its end'],
    ['a lock', (tx: Repositories, user: User) => tx.users.findByIdForUpdate(user.id), 'a guarded write sends one statement at its end'],
    ['a one-time token', (tx: Repositories, _user: User, token: OneTimeToken) => tx.oneTimeTokens.add(token), 'a guarded write sends one statement at its end'],
    ['a save', (tx: Repositories, user: User) => tx.users.save(user), 'an insert-only write (runInserts) saves nothing'],
  ])('refuses %s through repos, and writes nothing', async (_name, call, message) => {
    const user = aVerifiedUser();
    const sessionId = randomUUID();
    const token = aOneTimeToken(user.id);
    await expect(
      store.uow.runInserts(async (tx) => {
        await tx.users.add(user);
        await tx.sessions.add(aSession(user.id, { id: sessionId }));
        await call(tx, user, token);
      }),
    ).rejects.toThrow(message);
    await expect(store.repos.users.findById(user.id)).resolves.toBeNull();
    await expect(store.repos.sessions.findById(sessionId)).resolves.toBeNull();
    await expect(store.repos.oneTimeTokens.findByHash(token.purpose, token.tokenHash)).resolves.toBeNull();
  });

  it('refuses a new user inside a write guarded by another user (runIfUnchanged), writing nothing', async () => {
    const existing = aVerifiedUser();
    await store.uow.run((tx) => tx.users.add(existing));
    const read = (await store.repos.users.findById(existing.id))!;
    const user = aVerifiedUser();
    await expect(store.uow.runIfUnchanged(read, (tx) => tx.users.add(user))).rejects.toThrow('a write guarded by a user adds no user');
    await expect(store.repos.users.findById(user.id)).resolves.toBeNull();
  });
});
