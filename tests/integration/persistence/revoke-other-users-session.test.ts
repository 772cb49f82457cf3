import { RevokeSession } from '@application/session/revoke-session';
import { SystemClock } from '@infrastructure/time/system-clock';
import { ADAPTERS, type Store } from '../../support/persistence';
import { describeWhen, REAL_POSTGRES_SELECTED } from '../../support/servers';
import { aSession, aUser } from '../../support/mothers';

const CLIENT = { ip: '203.0.113.9', userAgent: 'jest' };
const realPostgres = ADAPTERS.find((adapter) => adapter.kind === 'sql' && adapter.parallel);

/**
 * A review of authorisation (stop 65): `DELETE /users/me/sessions/:id` naming another user's session locked that
 * session's row (FOR UPDATE) before it compared owners and answered 404, so anyone holding a session id (resource
 * servers see it as `sid`) could hold up its owner's refresh and sign-out. Another user's session is now refused
 * before any lock. On the real server, where row locks block other connections: the victim's row is held locked by
 * a transaction (as a refresh in progress would), and the stranger's request must answer without waiting for it.
 */
describeWhen(REAL_POSTGRES_SELECTED && realPostgres !== undefined, 'PostgreSQL')('ending another user\'s session by id', () => {
  let store: Store;

  beforeAll(async () => {
    store = await realPostgres!.start();
  });
  afterAll(async () => store?.stop());

  it('answers 404 without taking (or waiting on) the victim session\'s lock', async () => {
    const [victim, stranger] = [aUser(), aUser()];
    await store.uow.run(async (tx) => {
      await tx.users.add(victim);
      await tx.users.add(stranger);
    });
    const [victimSession, strangerSession] = [aSession(victim.id), aSession(stranger.id)];
    await store.uow.run(async (tx) => {
      await tx.sessions.add(victimSession);
      await tx.sessions.add(strangerSession);
    });
    const revoke = new RevokeSession(store.uow, new SystemClock());

    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    const holder = store.uow.run(async (tx) => {
      await tx.sessions.findByIdForUpdate(victimSession.id);
      locked();
      await held;
    });
    await lockTaken;
    try {
      const answer = revoke
        .execute({ userId: stranger.id, sessionId: victimSession.id, currentSessionId: strangerSession.id, client: CLIENT })
        .then(() => 'revoked', (error: { code?: string }) => error.code ?? 'error');
      const waited = new Promise<string>((resolve) => setTimeout(() => resolve('still waiting on the lock'), 3000));
      await expect(Promise.race([answer, waited])).resolves.toBe('NOT_FOUND');
    } finally {
      release();
      await holder;
    }
    expect((await store.repos.sessions.findById(victimSession.id))?.revokedAt).toBeNull();
  });
});
