import { OutboxEventRecord, SessionRecord } from '@infrastructure/persistence/typeorm/entities';
import { TypeOrmUnitOfWork, typeOrmRepositories } from '@infrastructure/persistence/typeorm/typeorm-unit-of-work';
import { backends, type TestDatabase } from './support/backends';
import { aSession, aUser, at } from './support/fixtures';
import { testRepositoryOptions } from '../../support/repository-options';

describe.each(backends)('TypeOrmUnitOfWork on $name', (backend) => {
  let db: TestDatabase;
  let uow: TypeOrmUnitOfWork;

  beforeAll(async () => {
    db = await backend.start();
    uow = new TypeOrmUnitOfWork(db.dataSource, testRepositoryOptions());
  });
  afterAll(async () => {
    await db?.stop();
  });

  const outboxCount = (subject: string): Promise<number> =>
    db.dataSource.manager.countBy(OutboxEventRecord, { subject });

  it('commits aggregates and their outbox events together and returns what the work returned', async () => {
    const user = aUser();
    const session = aSession(user.id);
    session.revoke(at('2026-01-03T00:00:00.000Z'), 'logout');

    const result = await uow.run(async (repos) => {
      await repos.users.add(user);
      await repos.sessions.add(session);
      return 'done';
    });

    expect(result).toBe('done');
    const repos = typeOrmRepositories(db.dataSource.manager, testRepositoryOptions());
    await expect(repos.users.findById(user.id)).resolves.not.toBeNull();
    await expect(repos.sessions.findById(session.id)).resolves.not.toBeNull();
    const events = await db.dataSource.manager.find(OutboxEventRecord, { where: { subject: user.id }, order: { type: 'ASC' } });
    expect(events.map((e) => e.type)).toEqual(['auth.session.revoked', 'auth.user.registered']);
  });

  it('rolls back rows and outbox events together when the work throws', async () => {
    const user = aUser();
    const failure = new Error('boom after saving');

    await expect(
      uow.run(async (repos) => {
        await repos.users.add(user);
        await repos.sessions.add(aSession(user.id));
        // Another connection does not see uncommitted rows (PGlite has one connection: asking would deadlock).
        if (backend.poolSize > 1) await expect(outboxCount(user.id)).resolves.toBe(0);
        throw failure;
      }),
    ).rejects.toBe(failure);

    await expect(typeOrmRepositories(db.dataSource.manager, testRepositoryOptions()).users.findById(user.id)).resolves.toBeNull();
    await expect(db.dataSource.manager.countBy(SessionRecord, { userId: user.id })).resolves.toBe(0);
    await expect(outboxCount(user.id)).resolves.toBe(0);
  });

  it('rolls back earlier writes when a later save hits a uniqueness error', async () => {
    const existing = aUser();
    await typeOrmRepositories(db.dataSource.manager, testRepositoryOptions()).users.add(existing);
    const fresh = aUser();

    await expect(
      uow.run(async (repos) => {
        await repos.users.add(fresh);
        await repos.users.add(aUser({ email: existing.email }));
      }),
    ).rejects.toMatchObject({ code: 'EMAIL_ALREADY_REGISTERED' });

    await expect(typeOrmRepositories(db.dataSource.manager, testRepositoryOptions()).users.findById(fresh.id)).resolves.toBeNull();
    await expect(outboxCount(fresh.id)).resolves.toBe(0);
  });
});
