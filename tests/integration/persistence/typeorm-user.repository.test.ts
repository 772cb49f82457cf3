import { DomainError } from '@domain/shared/domain-error';
import { OutboxEventRecord, UserRecord } from '@infrastructure/persistence/typeorm/entities';
import { typeOrmRepositories, type TypeOrmRepositories } from '@infrastructure/persistence/typeorm/typeorm-unit-of-work';
import { backends, type TestDatabase } from './support/backends';
import { aUser, at, uniqueSuffix } from './support/fixtures';
import { testRepositoryOptions } from '../../support/repository-options';

describe.each(backends)('TypeOrmUserRepository on $name', (backend) => {
  let db: TestDatabase;
  let repos: TypeOrmRepositories;

  beforeAll(async () => {
    db = await backend.start();
    repos = typeOrmRepositories(db.dataSource.manager, testRepositoryOptions());
  });
  afterAll(async () => {
    await db?.stop();
  });

  it('saves a user with its credentials and finds it by id, email and username', async () => {
    const user = aUser();
    const expected = user.toState();
    await repos.users.add(user);

    for (const found of [
      await repos.users.findById(expected.id),
      await repos.users.findByEmail(expected.email),
      await repos.users.findByUsername(expected.username as string),
    ]) {
      expect(found?.toState()).toEqual(expected);
    }
  });

  it('returns null for unknown ids, emails and usernames', async () => {
    await expect(repos.users.findById('00000000-0000-4000-8000-000000000000')).resolves.toBeNull();
    await expect(repos.users.findByEmail(`nobody.${uniqueSuffix()}@example.com`)).resolves.toBeNull();
    await expect(repos.users.findByUsername(`nobody_${uniqueSuffix()}`)).resolves.toBeNull();
    // Not a UUID: no row can match, and it must not become a database error (a 500).
    await expect(repos.users.findById("1' OR '1'='1")).resolves.toBeNull();
    await expect(repos.sessions.findById('not-a-uuid')).resolves.toBeNull();
  });

  it('updates the same rows when an existing user is saved again', async () => {
    const user = aUser();
    await repos.users.add(user);
    const loaded = await repos.users.findByIdForUpdate(user.id);
    if (!loaded) throw new Error('user not found');
    loaded.verifyEmail(at('2026-02-01T00:00:00.000Z'));
    loaded.recordFailedLogin(at('2026-02-01T00:00:01.000Z'), 'bad_password');
    loaded.rehashPassword('$argon2id$v=19$m=65536,t=3,p=4$bmV3c2FsdA$bmV3aGFzaA');
    await repos.users.save(loaded);

    const reloaded = await repos.users.findById(user.id);
    expect(reloaded?.toState()).toEqual(loaded.toState());
    expect(reloaded?.toState()).toMatchObject({ status: 'active', emailVerified: true, credentials: { failedAttempts: 1 } });
    await expect(db.dataSource.manager.countBy(UserRecord, { email: user.email })).resolves.toBe(1);
  });

  it('maps a clash on email to EMAIL_ALREADY_REGISTERED', async () => {
    const first = aUser();
    await repos.users.add(first);
    const clash = aUser({ email: first.email });
    await expect(repos.users.add(clash)).rejects.toMatchObject({ code: 'EMAIL_ALREADY_REGISTERED' });
    await expect(repos.users.findById(clash.id)).resolves.toBeNull();
  });

  it('maps a clash on username to USERNAME_TAKEN, and lets many users go without a username', async () => {
    const first = aUser();
    await repos.users.add(first);
    const error = await repos.users.add(aUser({ username: first.username })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: 'USERNAME_TAKEN', message: 'This username is taken.' });

    const anonymous = [aUser({ username: null }), aUser({ username: null })];
    for (const user of anonymous) await repos.users.add(user);
    for (const user of anonymous) await expect(repos.users.findById(user.id)).resolves.not.toBeNull();
  });

  it('writes the recorded events to the outbox as CloudEvents, once', async () => {
    const user = aUser();
    await repos.users.add(user);
    await repos.users.save(user); // nothing new recorded: no second row

    const rows = await db.dataSource.manager.findBy(OutboxEventRecord, { subject: user.id });
    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect(row).toMatchObject({ type: 'auth.user.registered', publishedAt: null, attempts: 0, lastError: null });
    expect(row?.payload).toEqual({
      specversion: '1.0',
      id: row?.id,
      source: 'auth-service',
      type: 'auth.user.registered',
      subject: user.id,
      time: '2026-01-02T03:04:05.678Z',
      datacontenttype: 'application/json',
      data: { user_id: user.id, email: user.email, username: user.username, email_verified: false },
    });
  });
});
