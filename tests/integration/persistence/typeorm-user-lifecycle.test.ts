import { Email } from '@domain/user/email';
import { OutboxEventRecord } from '@infrastructure/persistence/typeorm/entities';
import { TypeOrmUnitOfWork, typeOrmRepositories } from '@infrastructure/persistence/typeorm/typeorm-unit-of-work';
import { testRepositoryOptions } from '../../support/repository-options';
import { backends, type TestDatabase } from './support/backends';
import { aOneTimeToken, aSession, aUser, at } from './support/fixtures';

describe.each(backends)('user lifecycle rows on $name', (backend) => {
  let db: TestDatabase;
  let uow: TypeOrmUnitOfWork;
  const now = at('2026-02-01T00:00:00.000Z');

  beforeAll(async () => {
    db = await backend.start();
    uow = new TypeOrmUnitOfWork(db.dataSource, testRepositoryOptions());
  });
  afterAll(async () => db?.stop());

  it('keeps a pending email beside the login address, and finds the user by the login address only', async () => {
    const user = aUser();
    user.requestEmailChange(Email.create(`next.${user.id.slice(0, 8)}@example.com`), now);
    await uow.run((repos) => repos.users.add(user));
    const repos = typeOrmRepositories(db.dataSource.manager, testRepositoryOptions());
    await expect(repos.users.findById(user.id)).resolves.toMatchObject({ email: user.email, pendingEmail: user.pendingEmail });
    await expect(repos.users.findByEmail(user.pendingEmail!)).resolves.toBeNull();
  });

  it('delete() writes the deletion event, then removes the user with credentials, sessions, history and tokens', async () => {
    const user = aUser();
    const session = aSession(user.id);
    await uow.run(async (repos) => {
      await repos.users.add(user);
      await repos.sessions.add(session);
      await repos.oneTimeTokens.add(aOneTimeToken(user.id, 'password_reset', now));
    });
    await uow.run(async (repos) => {
      const found = (await repos.users.findByIdForUpdate(user.id))!;
      found.markDeleted(now);
      await repos.users.delete(found);
    });
    const count = async (table: string, column: string) =>
      Number((await db.dataSource.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${column} = $1`, [user.id]))[0].n);
    expect([await count('users', 'id'), await count('user_credentials', 'user_id'), await count('sessions', 'user_id'), await count('one_time_tokens', 'user_id')]).toEqual([0, 0, 0, 0]);
    const events = await db.dataSource.manager.find(OutboxEventRecord, { where: { subject: user.id } });
    expect(events.map((e) => e.type).sort()).toEqual(['auth.user.deleted', 'auth.user.registered']);
  });
});
