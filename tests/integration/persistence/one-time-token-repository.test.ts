import { randomUUID } from 'node:crypto';
import type { OneTimeTokenPurpose } from '@domain/token/one-time-token';
import { ADAPTERS, type Store } from '../../support/persistence';
import { aOneTimeToken, at, aUser, T0 } from '../../support/mothers';

const later = at('2026-01-02T03:30:00.000Z');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The OneTimeTokenRepository contract, through the port only, on every adapter. */
describe.each(ADAPTERS)('OneTimeTokenRepository on $name', (adapter) => {
  let store: Store;

  beforeAll(async () => {
    store = await adapter.start();
  });
  afterAll(async () => store?.stop());

  async function aUserId(): Promise<string> {
    const user = aUser();
    await store.uow.run((tx) => tx.users.add(user));
    return user.id;
  }

  const consumedAt = async (purpose: OneTimeTokenPurpose, hash: string) => (await store.repos.oneTimeTokens.findByHash(purpose, hash))?.consumedAt;

  it('finds a token by hash only for its own purpose', async () => {
    const token = aOneTimeToken(await aUserId());
    await store.repos.oneTimeTokens.add(token);
    await expect(store.repos.oneTimeTokens.findByHash('email_verification', token.tokenHash)).resolves.toEqual(token);
    await expect(store.repos.oneTimeTokens.findByHash('password_reset', token.tokenHash)).resolves.toBeNull();
  });

  it('add inserts: a second token with the same hash or the same id fails, and so does one of an unknown user', async () => {
    const token = aOneTimeToken(await aUserId(), { purpose: 'mfa_pending' });
    await store.repos.oneTimeTokens.add(token);
    await expect(store.repos.oneTimeTokens.add({ ...token, id: randomUUID() })).rejects.toThrow();
    await expect(store.repos.oneTimeTokens.add(aOneTimeToken(token.userId, { id: token.id }))).rejects.toThrow();
    await expect(store.repos.oneTimeTokens.add(aOneTimeToken(randomUUID()))).rejects.toThrow();
    await expect(store.repos.oneTimeTokens.findByHash('mfa_pending', token.tokenHash)).resolves.toEqual(token);
  });

  it('consumes a token once', async () => {
    const token = aOneTimeToken(await aUserId(), { purpose: 'password_reset' });
    await store.repos.oneTimeTokens.add(token);
    await expect(store.repos.oneTimeTokens.consume(token.id, later)).resolves.toBe(true);
    await expect(store.repos.oneTimeTokens.consume(token.id, at('2026-01-02T03:31:00.000Z'))).resolves.toBe(false);
    await expect(store.repos.oneTimeTokens.consume(randomUUID(), later)).resolves.toBe(false);
    await expect(consumedAt('password_reset', token.tokenHash)).resolves.toEqual(later);
  });

  it('does not consume a token at or past its expiry (judged by the consumer once its locks are held)', async () => {
    const token = aOneTimeToken(await aUserId(), { purpose: 'password_reset' });
    await store.repos.oneTimeTokens.add(token);
    await expect(store.repos.oneTimeTokens.consume(token.id, token.expiresAt)).resolves.toBe(false);
    await expect(store.repos.oneTimeTokens.consume(token.id, new Date(token.expiresAt.getTime() + 1))).resolves.toBe(false);
    await expect(consumedAt('password_reset', token.tokenHash)).resolves.toBeNull();
    const justBefore = new Date(token.expiresAt.getTime() - 1);
    await expect(store.repos.oneTimeTokens.consume(token.id, justBefore)).resolves.toBe(true);
    await expect(consumedAt('password_reset', token.tokenHash)).resolves.toEqual(justBefore);
  });

  it('lets exactly one of 20 concurrent transactions consume a token', async () => {
    const token = aOneTimeToken(await aUserId());
    await store.repos.oneTimeTokens.add(token);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.uow.run(async (tx) => {
          const won = await tx.oneTimeTokens.consume(token.id, new Date(later.getTime() + i));
          await sleep(5); // keep the row locked while the others try
          return won;
        }),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    await expect(consumedAt('email_verification', token.tokenHash)).resolves.toEqual(new Date(later.getTime() + results.indexOf(true)));
  });

  it('a consumption rolled back with its unit of work leaves the token usable', async () => {
    const token = aOneTimeToken(await aUserId());
    await store.repos.oneTimeTokens.add(token);
    const failure = new Error('the change failed');
    await expect(
      store.uow.run(async (tx) => {
        await tx.oneTimeTokens.consume(token.id, later);
        throw failure;
      }),
    ).rejects.toBe(failure);
    await expect(consumedAt('email_verification', token.tokenHash)).resolves.toBeNull();
  });

  it('voids every unconsumed token of one purpose for one user, and nothing else', async () => {
    const userId = await aUserId();
    const open = aOneTimeToken(userId);
    const alreadyUsed = aOneTimeToken(userId, { consumedAt: at('2026-01-02T03:10:00.000Z') });
    const otherPurpose = aOneTimeToken(userId, { purpose: 'password_reset' });
    const otherUser = aOneTimeToken(await aUserId());
    for (const token of [open, alreadyUsed, otherPurpose, otherUser]) await store.repos.oneTimeTokens.add(token);

    await store.repos.oneTimeTokens.consumeAllFor(userId, 'email_verification', later);

    await expect(consumedAt('email_verification', open.tokenHash)).resolves.toEqual(later);
    await expect(consumedAt('email_verification', alreadyUsed.tokenHash)).resolves.toEqual(alreadyUsed.consumedAt);
    await expect(consumedAt('password_reset', otherPurpose.tokenHash)).resolves.toBeNull();
    await expect(consumedAt('email_verification', otherUser.tokenHash)).resolves.toBeNull();
  });

  it('voids every unconsumed token of one user whatever the purpose, and no one else\'s', async () => {
    const userId = await aUserId();
    const tokens = (['email_verification', 'password_reset', 'email_change'] as const).map((purpose) => aOneTimeToken(userId, { purpose, now: T0 }));
    const otherUser = aOneTimeToken(await aUserId(), { purpose: 'password_reset' });
    for (const token of [...tokens, otherUser]) await store.repos.oneTimeTokens.add(token);

    await store.repos.oneTimeTokens.consumeAllOfUser(userId, later);

    for (const token of tokens) await expect(consumedAt(token.purpose, token.tokenHash)).resolves.toEqual(later);
    await expect(consumedAt('password_reset', otherUser.tokenHash)).resolves.toBeNull();
  });
});
