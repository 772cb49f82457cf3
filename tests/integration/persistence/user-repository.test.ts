import { DomainError } from '@domain/shared/domain-error';
import { randomUUID } from 'node:crypto';
import { Email } from '@domain/user/email';
import { Role } from '@domain/user/role';
import { User } from '@domain/user/user';
import { UserId } from '@domain/user/user-id';
import { ADAPTERS, type Store } from '../../support/persistence';
import { aOneTimeToken, aSession, at, aUser, aVerifiedUser, T0, uniqueSuffix } from '../../support/mothers';

const later = at('2026-02-01T00:00:00.000Z');

/** The UserRepository contract (DESIGN 8a), through the port only, on every adapter. */
describe.each(ADAPTERS)('UserRepository on $name', (adapter) => {
  let store: Store;

  beforeAll(async () => {
    store = await adapter.start();
  });
  afterAll(async () => store?.stop());

  const stored = async (id: string) => (await store.repos.users.findById(id))?.toState() ?? null;
  const added = async (user = aUser()) => {
    await store.uow.run((tx) => tx.users.add(user));
    return user;
  };

  it('adds a user and finds it by id, email and username', async () => {
    const user = await added();
    const expected = user.toState();
    for (const found of [
      await store.repos.users.findById(expected.id),
      // A uuid column: capitals name the same row (an admin path may spell the id so).
      await store.repos.users.findById(expected.id.toUpperCase()),
      await store.uow.run((tx) => tx.users.findByIdForUpdate(expected.id.toUpperCase())),
      await store.repos.users.findByEmail(expected.email),
      await store.repos.users.findByUsername(expected.username as string),
    ]) {
      expect(found?.toState()).toEqual(expected);
    }
  });

  it('returns null for unknown ids, emails and usernames, and for an id that is no UUID', async () => {
    await expect(store.repos.users.findById('00000000-0000-4000-8000-000000000000')).resolves.toBeNull();
    await expect(store.repos.users.findByEmail(`nobody.${uniqueSuffix()}@example.com`)).resolves.toBeNull();
    await expect(store.repos.users.findByUsername(`nobody_${uniqueSuffix()}`)).resolves.toBeNull();
    await expect(store.repos.users.findById("1' OR '1'='1")).resolves.toBeNull();
    await expect(store.uow.run((tx) => tx.users.findByIdForUpdate('not-a-uuid'))).resolves.toBeNull();
  });

  it('add inserts: adding the same user twice fails and changes nothing', async () => {
    const user = await added();
    const copy = (await store.repos.users.findById(user.id))!;
    copy.updateProfile({ firstName: 'Changed' }, later);
    await expect(store.uow.run((tx) => tx.users.add(copy))).rejects.toThrow();
    await expect(stored(user.id)).resolves.toMatchObject({ firstName: 'Ada' });
  });

  it('maps a clash on email to EMAIL_ALREADY_REGISTERED and on username to USERNAME_TAKEN', async () => {
    const first = await added();
    const sameEmail = aUser({ email: first.email });
    await expect(store.uow.run((tx) => tx.users.add(sameEmail))).rejects.toMatchObject({ code: 'EMAIL_ALREADY_REGISTERED' });
    await expect(store.repos.users.findById(sameEmail.id)).resolves.toBeNull();
    const error = await store.uow.run((tx) => tx.users.add(aUser({ username: first.username }))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: 'USERNAME_TAKEN', message: 'This username is taken.' });
  });

  it('parallel registrations of one email: one is stored, every other one is EMAIL_ALREADY_REGISTERED (five rounds)', async () => {
    for (let round = 0; round < 5; round += 1) {
      const proto = aUser();
      const contenders = Array.from({ length: 8 }, (_, i) => (i === 0 ? proto : aUser({ email: proto.email })));
      const outcomes = await Promise.allSettled(contenders.map((user) => store.uow.run((tx) => tx.users.add(user))));
      const won = outcomes.flatMap((outcome, i) => (outcome.status === 'fulfilled' ? [contenders[i]!.id] : []));
      const refused = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
      expect(won).toHaveLength(1);
      expect(refused).toHaveLength(7);
      for (const reason of refused) expect(reason).toMatchObject({ code: 'EMAIL_ALREADY_REGISTERED' });
      const found = await store.repos.users.findByEmail(proto.toState().email);
      expect(found?.id).toBe(won[0]);
    }
  });

  it('lets many users go without a username', async () => {
    const anonymous = [aUser({ username: null }), aUser({ username: null })];
    for (const user of anonymous) await added(user);
    for (const user of anonymous) await expect(stored(user.id)).resolves.toMatchObject({ username: null });
  });

  it('save updates a user read FOR UPDATE in the same unit of work', async () => {
    const user = await added();
    const saved = await store.uow.run(async (tx) => {
      const loaded = (await tx.users.findByIdForUpdate(user.id))!;
      loaded.verifyEmail(later);
      loaded.recordFailedLogin(at('2026-02-01T00:00:01.000Z'), 'wrong_password');
      await tx.users.save(loaded);
      return loaded.toState();
    });
    const reloaded = (await store.repos.users.findById(user.id))!;
    expect(reloaded.toState()).toEqual(saved);
    expect(reloaded).toMatchObject({ status: 'active', emailVerified: true });
    await expect(store.repos.users.findByEmail(user.email)).resolves.toMatchObject({ id: user.id });
  });

  it('save updates a user added in the same unit of work', async () => {
    const user = aUser();
    await store.uow.run(async (tx) => {
      await tx.users.add(user);
      user.updateProfile({ lastName: 'Lovelace' }, later);
      await tx.users.save(user);
    });
    await expect(stored(user.id)).resolves.toMatchObject({ lastName: 'Lovelace', updatedAt: later });
  });

  it('save refuses a user read without a lock, or locked in another unit of work, and writes nothing', async () => {
    const user = await added();
    const plain = (await store.repos.users.findById(user.id))!;
    plain.updateProfile({ firstName: 'Plain' }, later);
    await expect(store.uow.run((tx) => tx.users.save(plain))).rejects.toThrow(/FOR UPDATE/);
    const lockedElsewhere = (await store.uow.run((tx) => tx.users.findByIdForUpdate(user.id)))!;
    lockedElsewhere.updateProfile({ firstName: 'Stale' }, later);
    await expect(store.uow.run((tx) => tx.users.save(lockedElsewhere))).rejects.toThrow(/FOR UPDATE/);
    await expect(stored(user.id)).resolves.toMatchObject({ firstName: 'Ada' });
  });

  it('save of a deleted user throws and never inserts it again', async () => {
    const user = await added();
    await store.uow.run(async (tx) => {
      const doomed = (await tx.users.findByIdForUpdate(user.id))!;
      const kept = (await tx.users.findByIdForUpdate(user.id))!;
      doomed.markDeleted(later);
      await tx.users.delete(doomed);
      kept.updateProfile({ firstName: 'Ghost' }, later);
      await expect(tx.users.save(kept)).rejects.toThrow();
    });
    await expect(store.repos.users.findById(user.id)).resolves.toBeNull();
    await expect(store.repos.users.findByEmail(user.email)).resolves.toBeNull();
  });

  it('writes only the changed columns: two units of work changing different fields one after the other both survive', async () => {
    const user = await added();
    await store.uow.run(async (tx) => {
      const first = (await tx.users.findByIdForUpdate(user.id))!;
      first.updateProfile({ firstName: 'Grace' }, later);
      await tx.users.save(first);
    });
    await store.uow.run(async (tx) => {
      const second = (await tx.users.findByIdForUpdate(user.id))!;
      second.updateProfile({ lastName: 'Hopper' }, later);
      await tx.users.save(second);
    });
    await expect(stored(user.id)).resolves.toMatchObject({ firstName: 'Grace', lastName: 'Hopper' });
  });

  it('writes only the changed columns: a second copy that changed another field does not undo the first', async () => {
    const user = await added();
    await store.uow.run(async (tx) => {
      const a = (await tx.users.findByIdForUpdate(user.id))!;
      const b = (await tx.users.findByIdForUpdate(user.id))!;
      a.updateProfile({ firstName: 'Grace' }, later);
      await tx.users.save(a);
      b.verifyEmail(later);
      await tx.users.save(b);
    });
    await expect(stored(user.id)).resolves.toMatchObject({ firstName: 'Grace', emailVerified: true, status: 'active' });
  });

  it('writes the recorded events to the outbox as CloudEvents, once', async () => {
    const user = aUser();
    await store.uow.run(async (tx) => {
      await tx.users.add(user);
      await tx.users.save(user); // nothing new recorded: no second row
    });
    const rows = (await store.outbox()).filter((row) => row.subject === user.id);
    expect(rows.map((row) => [row.type, row.publishedAt, row.attempts, row.lastError])).toEqual([['auth.user.registered', null, 0, null]]);
    expect(rows[0]!.payload).toEqual({
      specversion: '1.0',
      id: rows[0]!.id,
      source: 'auth-service',
      type: 'auth.user.registered',
      subject: user.id,
      time: T0.toISOString(),
      datacontenttype: 'application/json',
      data: { user_id: user.id, email: user.email, username: user.username, email_verified: false },
    });
  });

  it('keeps the inviter of an invited account (no foreign key: an id that names nobody), and writes a change of it', async () => {
    const inviter = randomUUID();
    const user = User.invite({ id: UserId.create(randomUUID()), email: Email.create(`invited.${uniqueSuffix()}@example.com`), firstName: null, lastName: null, roles: ['user', 'admin'], invitedBy: inviter }, T0);
    await added(user);
    await expect(stored(user.id)).resolves.toEqual(user.toState());
    await expect(stored(user.id)).resolves.toMatchObject({ invitedBy: inviter, roles: ['user', 'admin'] });
    // Another admin's roles: the grant becomes theirs (the column is written as any other changed one).
    const colleague = randomUUID();
    await store.uow.run(async (tx) => {
      const locked = (await tx.users.findByIdForUpdate(user.id))!;
      locked.changeRoles(Role.list(['user', 'support']), later, colleague);
      await tx.users.save(locked);
    });
    await expect(stored(user.id)).resolves.toMatchObject({ invitedBy: colleague, roles: ['user', 'support'] });
    // A registered account: nobody.
    await expect(stored((await added()).id)).resolves.toMatchObject({ invitedBy: null });
  });

  it('keeps a pending email beside the login address, and finds the user by the login address only', async () => {
    const user = aUser();
    user.requestEmailChange(Email.create(`next.${uniqueSuffix()}@example.com`), later);
    await added(user);
    await expect(stored(user.id)).resolves.toMatchObject({ email: user.email, pendingEmail: user.pendingEmail });
    await expect(store.repos.users.findByEmail(user.pendingEmail!)).resolves.toBeNull();
  });

  it('delete writes the deletion event, then removes the user with its sessions and tokens', async () => {
    const user = aVerifiedUser();
    const session = aSession(user.id);
    const token = aOneTimeToken(user.id, { purpose: 'password_reset' });
    await store.uow.run(async (tx) => {
      await tx.users.add(user);
      await tx.sessions.add(session);
      await tx.oneTimeTokens.add(token);
    });
    await store.uow.run(async (tx) => {
      const found = (await tx.users.findByIdForUpdate(user.id))!;
      found.markDeleted(later);
      await tx.users.delete(found);
    });
    await expect(store.repos.users.findById(user.id)).resolves.toBeNull();
    await expect(store.repos.sessions.findById(session.id)).resolves.toBeNull();
    await expect(store.repos.oneTimeTokens.findByHash('password_reset', token.tokenHash)).resolves.toBeNull();
    const events = (await store.outbox()).filter((row) => row.subject === user.id).map((row) => row.type);
    expect(events.sort()).toEqual(['auth.user.deleted', 'auth.user.registered']);
  });

  it('delete refuses a user that was not read FOR UPDATE in the unit of work', async () => {
    const user = await added();
    const plain = (await store.repos.users.findById(user.id))!;
    plain.markDeleted(later);
    await expect(store.uow.run((tx) => tx.users.delete(plain))).rejects.toThrow(/FOR UPDATE/);
    await expect(store.repos.users.findById(user.id)).resolves.not.toBeNull();
  });
});
