import { randomUUID } from 'node:crypto';
import type { Repositories } from '@application/ports/unit-of-work';
import type { OneTimeToken } from '@domain/token/one-time-token';
import type { User } from '@domain/user/user';
import { ADAPTERS, type Store } from '../../support/persistence';
import { aOneTimeToken, aSession, anAuditEntry, at, aVerifiedUser } from '../../support/mothers';

const LOGIN_AT = at('2026-02-01T10:00:00.000Z');

/**
 * UnitOfWork.runIfUnchanged, the login's optimistic write, on every adapter: the user's changes, a new session,
 * their events and an audit entry are written together only if the user is still the version read, and nothing
 * at all otherwise (a password changed meanwhile must not let a login checked against the old one write).
 */
describe.each(ADAPTERS)('UnitOfWork.runIfUnchanged on $name', (adapter) => {
  let store: Store;

  beforeAll(async () => {
    store = await adapter.start();
  });
  afterAll(async () => store?.stop());

  async function registered(): Promise<User> {
    const user = aVerifiedUser();
    await store.uow.run((tx) => tx.users.add(user));
    return (await store.repos.users.findById(user.id))!;
  }

  /** What a login writes: a session, the user's bookkeeping and event, an audit entry. Returns the session id. */
  function signIn(user: User, sessionId = randomUUID()) {
    return async (tx: Repositories) => {
      await tx.sessions.add(aSession(user.id, { id: sessionId }));
      user.recordSuccessfulLogin(LOGIN_AT, sessionId, ['pwd']);
      await tx.users.save(user);
      await tx.audit.record(anAuditEntry({ type: 'login.succeeded', outcome: 'success', subjectId: user.id, reason: null, requestId: sessionId }));
      return sessionId;
    };
  }

  async function traces(userId: string, sessionId: string) {
    const session = await store.repos.sessions.findById(sessionId);
    const events = (await store.outbox()).filter((row) => row.subject === userId && row.type === 'auth.user.logged_in');
    const audit = (await store.auditEntries()).filter((entry) => entry.requestId === sessionId);
    const user = await store.repos.users.findById(userId);
    return { session: session !== null, events: events.length, audit: audit.length, lastLoginAt: user?.toState().lastLoginAt ?? null };
  }

  it('writes the session, the user, the event and the audit entry when nothing changed since the read', async () => {
    const read = await registered();
    const outcome = await store.uow.runIfUnchanged(read, signIn(read));
    expect(outcome.written).toBe(true);
    const sessionId = outcome.written ? outcome.value : '';
    await expect(traces(read.id, sessionId)).resolves.toEqual({ session: true, events: 1, audit: 1, lastLoginAt: LOGIN_AT });
  });

  it.each([
    ['a change of the row (suspended)', (user: User) => user.suspend(at('2026-02-01T09:00:00.000Z'), 'test')],
    ['a change of a credential alone (the password rehashed)', (user: User) => user.rehashPassword('$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaA')],
    ['a failed login recorded', (user: User) => user.recordFailedLogin(at('2026-02-01T09:00:00.000Z'), 'wrong_password')],
  ])('writes nothing after %s committed since the read', async (_name, change) => {
    const read = await registered();
    await store.uow.run(async (tx) => {
      const locked = (await tx.users.findByIdForUpdate(read.id))!;
      change(locked);
      await tx.users.save(locked);
    });
    const sessionId = randomUUID();
    await expect(store.uow.runIfUnchanged(read, signIn(read, sessionId))).resolves.toEqual({ written: false });
    await expect(traces(read.id, sessionId)).resolves.toEqual({ session: false, events: 0, audit: 0, lastLoginAt: null });
  });

  it('writes nothing for a user deleted since the read', async () => {
    const read = await registered();
    await store.uow.run(async (tx) => {
      const locked = (await tx.users.findByIdForUpdate(read.id))!;
      await tx.users.delete(locked);
    });
    const sessionId = randomUUID();
    await expect(store.uow.runIfUnchanged(read, signIn(read, sessionId))).resolves.toEqual({ written: false });
    await expect(traces(read.id, sessionId)).resolves.toMatchObject({ session: false, events: 0, audit: 0 });
  });

  it('writes nothing for a user the repository did not read (no version to check)', async () => {
    const read = await registered();
    const copy = (await store.uow.run((tx) => tx.users.findByIdForUpdate(read.id)))!;
    const unread = aVerifiedUser();
    await expect(store.uow.runIfUnchanged(unread, signIn(unread))).resolves.toEqual({ written: false });
    expect(copy.id).toBe(read.id);
  });

  it('refuses a credential change inside the work, writing nothing', async () => {
    const read = await registered();
    const sessionId = randomUUID();
    await expect(
      store.uow.runIfUnchanged(read, async (tx) => {
        await signIn(read, sessionId)(tx);
        read.rehashPassword('$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaA');
        await tx.users.save(read);
      }),
    ).rejects.toThrow('cannot change a credential');
    await expect(traces(read.id, sessionId)).resolves.toEqual({ session: false, events: 0, audit: 0, lastLoginAt: null });
  });

  it('of parallel writes guarded by the same version, exactly one writes (rounds of 8)', async () => {
    for (let round = 0; round < 5; round++) {
      const first = await registered();
      const reads = [first, ...(await Promise.all(Array.from({ length: 7 }, async () => (await store.repos.users.findById(first.id))!)))];
      const ids = reads.map(() => randomUUID());
      const outcomes = await Promise.all(reads.map((read, i) => store.uow.runIfUnchanged(read, signIn(read, ids[i]))));
      expect(outcomes.filter((outcome) => outcome.written)).toHaveLength(1);
      const sessions = await Promise.all(ids.map((id) => store.repos.sessions.findById(id)));
      expect(sessions.filter((session) => session !== null)).toHaveLength(1);
      const events = (await store.outbox()).filter((row) => row.subject === first.id && row.type === 'auth.user.logged_in');
      expect(events).toHaveLength(1);
    }
  });

  it('a change and a guarded write racing: the write lands only if it came first (rounds of parallel pairs)', async () => {
    for (let round = 0; round < 10; round++) {
      const read = await registered();
      const sessionId = randomUUID();
      // The change revokes every session of the user, as a password change does: whatever the order, no session
      // written by the guarded write may outlive it.
      const change = store.uow.run(async (tx) => {
        const locked = (await tx.users.findByIdForUpdate(read.id))!;
        locked.rehashPassword(`$argon2id$v=19$m=19456,t=2,p=1$${round}c2FsdA$bmV3aGFzaA`);
        await tx.users.save(locked);
        for (const session of await tx.sessions.findActiveByUserForUpdate(read.id, at('2026-01-02T03:04:05.678Z'))) {
          session.revoke(at('2026-02-01T10:00:01.000Z'), 'password_changed');
          await tx.sessions.save(session);
        }
      });
      const [outcome] = await Promise.all([store.uow.runIfUnchanged(read, signIn(read, sessionId)), change]);
      const session = await store.repos.sessions.findById(sessionId);
      if (outcome.written) expect(session?.revokedAt).not.toBeNull();
      else expect(session).toBeNull();
    }
  });
});

/**
 * Every adapter enforces what the port asks of the work: the SQL one's repositories send no statement of their own (a
 * read, or a write the guard would not cover, such as a one-time token), so nothing can be written outside the
 * guard; the in-memory one refuses the same calls (since stop 65: it allowed them, so a work that broke the rule
 * passed the unit tests and failed on every SQL database).
 */
describe.each(ADAPTERS)('UnitOfWork.runIfUnchanged on $name: the work sends nothing itself', (adapter) => {
  let store: Store;

  beforeAll(async () => {
    store = await adapter.start();
  });
  afterAll(async () => store?.stop());

  it.each([
    ['a read', (tx: Repositories, user: User) => tx.users.findById(user.id)],
    ['a one-time token', (tx: Repositories, _user: User, token: OneTimeToken) => tx.oneTimeTokens.add(token)],
    ['a lock', (tx: Repositories, user: User) => tx.users.findByIdForUpdate(user.id)],
    ['an email', (tx: Repositories, user: User) => tx.emails.enqueue({ to: user.email, subject: 'Hello', text: 'Hello', html: '<p>Hello</p>' })],
  ])('refuses %s through repos, and writes nothing', async (_name, call) => {
    const user = aVerifiedUser();
    await store.uow.run((tx) => tx.users.add(user));
    const read = (await store.repos.users.findById(user.id))!;
    const sessionId = randomUUID();
    const token = aOneTimeToken(read.id);
    await expect(
      store.uow.runIfUnchanged(read, async (tx) => {
        await tx.sessions.add(aSession(read.id, { id: sessionId }));
        await call(tx, read, token);
      }),
    ).rejects.toThrow('a guarded write sends one statement at its end');
    await expect(store.repos.sessions.findById(sessionId)).resolves.toBeNull();
    await expect(store.repos.oneTimeTokens.findByHash(token.purpose, token.tokenHash)).resolves.toBeNull();
  });

  it('refuses a save of another user than the one it is guarded by', async () => {
    const [user, other] = [aVerifiedUser(), aVerifiedUser()];
    await store.uow.run(async (tx) => {
      await tx.users.add(user);
      await tx.users.add(other);
    });
    const [read, otherRead] = [(await store.repos.users.findById(user.id))!, (await store.repos.users.findById(other.id))!];
    await expect(store.uow.runIfUnchanged(read, (tx) => tx.users.save(otherRead))).rejects.toThrow('a guarded write saves only the user it is guarded by');
  });
});
