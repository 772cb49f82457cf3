import { randomUUID } from 'node:crypto';
import { TypeOrmUnitOfWork, typeOrmRepositories, type TypeOrmRepositories } from '@infrastructure/persistence/typeorm/typeorm-unit-of-work';
import { backends, type TestDatabase } from './support/backends';
import { aOneTimeToken, aUser, at } from './support/fixtures';
import { testRepositoryOptions } from '../../support/repository-options';

const now = at('2026-01-02T03:04:05.678Z');
const later = at('2026-01-02T03:30:00.000Z');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(backends)('TypeOrmOneTimeTokenRepository on $name', (backend) => {
  let db: TestDatabase;
  let repos: TypeOrmRepositories;

  beforeAll(async () => {
    db = await backend.start();
    repos = typeOrmRepositories(db.dataSource.manager, testRepositoryOptions());
  });
  afterAll(async () => {
    await db?.stop();
  });

  async function aSavedUserId(): Promise<string> {
    const user = aUser();
    await repos.users.add(user);
    return user.id;
  }

  it('finds a token by hash only for its own purpose', async () => {
    const token = aOneTimeToken(await aSavedUserId(), 'email_verification', now);
    await repos.oneTimeTokens.add(token);

    await expect(repos.oneTimeTokens.findByHash('email_verification', token.tokenHash)).resolves.toEqual(token);
    await expect(repos.oneTimeTokens.findByHash('password_reset', token.tokenHash)).resolves.toBeNull();
  });

  it('consumes a token once', async () => {
    const token = aOneTimeToken(await aSavedUserId(), 'password_reset', now);
    await repos.oneTimeTokens.add(token);

    await expect(repos.oneTimeTokens.consume(token.id, later)).resolves.toBe(true);
    await expect(repos.oneTimeTokens.consume(token.id, at('2026-01-02T03:31:00.000Z'))).resolves.toBe(false);
    await expect(repos.oneTimeTokens.consume(randomUUID(), later)).resolves.toBe(false);
    const stored = await repos.oneTimeTokens.findByHash('password_reset', token.tokenHash);
    expect(stored?.consumedAt).toEqual(later);
  });

  it('lets exactly one of 20 concurrent transactions consume a token', async () => {
    const token = aOneTimeToken(await aSavedUserId(), 'email_verification', now);
    await repos.oneTimeTokens.add(token);
    const uow = new TypeOrmUnitOfWork(db.dataSource, testRepositoryOptions());

    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        uow.run(async (tx) => {
          const won = await tx.oneTimeTokens.consume(token.id, new Date(later.getTime() + i));
          await sleep(5); // keep the row locked while the others try
          return won;
        }),
      ),
    );

    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    const stored = await repos.oneTimeTokens.findByHash('email_verification', token.tokenHash);
    expect(stored?.consumedAt).toEqual(new Date(later.getTime() + winner));
  });

  it('voids every unconsumed token of one purpose for one user, and nothing else', async () => {
    const userId = await aSavedUserId();
    const otherUserId = await aSavedUserId();
    const open = aOneTimeToken(userId, 'email_verification', now);
    const alreadyUsed = { ...aOneTimeToken(userId, 'email_verification', now), consumedAt: at('2026-01-02T03:10:00.000Z') };
    const otherPurpose = aOneTimeToken(userId, 'password_reset', now);
    const otherUser = aOneTimeToken(otherUserId, 'email_verification', now);
    for (const token of [open, alreadyUsed, otherPurpose, otherUser]) await repos.oneTimeTokens.add(token);

    await repos.oneTimeTokens.consumeAllFor(userId, 'email_verification', later);

    const consumedAt = async (purpose: 'email_verification' | 'password_reset', hash: string) =>
      (await repos.oneTimeTokens.findByHash(purpose, hash))?.consumedAt;
    await expect(consumedAt('email_verification', open.tokenHash)).resolves.toEqual(later);
    await expect(consumedAt('email_verification', alreadyUsed.tokenHash)).resolves.toEqual(alreadyUsed.consumedAt);
    await expect(consumedAt('password_reset', otherPurpose.tokenHash)).resolves.toBeNull();
    await expect(consumedAt('email_verification', otherUser.tokenHash)).resolves.toBeNull();
  });

  it('refuses a second token with the same hash', async () => {
    const userId = await aSavedUserId();
    const token = aOneTimeToken(userId, 'mfa_pending', now);
    await repos.oneTimeTokens.add(token);
    await expect(repos.oneTimeTokens.add({ ...token, id: randomUUID() })).rejects.toThrow();
  });
});
