import { randomBytes, randomUUID } from 'node:crypto';
import type { AccountRequest } from '@application/ports/account-requests';
import type { UnitOfWork } from '@application/ports/unit-of-work';
import { Email } from '@domain/user/email';
import { User } from '@domain/user/user';
import { UserId } from '@domain/user/user-id';
import { Username } from '@domain/user/username';
import { type AccountRequestQueue, type AccountRequestRow, openAccountRequest } from '@infrastructure/jobs/account-request-queue';
import { InMemoryAccountRequestQueue } from '@infrastructure/persistence/memory/in-memory-account-requests';
import { InMemoryDatabase } from '@infrastructure/persistence/memory/in-memory-database';
import { InMemoryUnitOfWork } from '@infrastructure/persistence/memory/in-memory-unit-of-work';
import { purgeExpiredRows } from '@infrastructure/persistence/typeorm/purge-expired';
import { TypeOrmAccountRequestQueue } from '@infrastructure/persistence/typeorm/typeorm-account-requests';
import { TypeOrmUnitOfWork } from '@infrastructure/persistence/typeorm/typeorm-unit-of-work';
import { AesGcmSecretBox } from '@infrastructure/security/crypto/aes-gcm-secret-box';
import { ManualClock } from '@infrastructure/time/system-clock';
import { backends } from './support/backends';

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA';
const CLIENT = { ip: '198.51.100.9', userAgent: 'contract-suite', requestId: 'req-1' };

interface Store {
  uow: UnitOfWork;
  queue: AccountRequestQueue;
  rows(): Promise<AccountRequestRow[]>;
  /** Whether transactions run in parallel (a real server with a pool), so races can be staged. */
  parallel: boolean;
  /** purge-expired (SQL only). */
  purge?(now: Date): Promise<number>;
  stop(): Promise<void>;
}

const clock = new ManualClock(new Date('2026-03-01T00:00:00.000Z'));
const box = new AesGcmSecretBox(randomBytes(32));
const pokes: string[] = [];
const options = { secretBox: box, clock, wake: { accountRequests: () => void pokes.push('poke') } };

const stores: { name: string; start(): Promise<Store> }[] = [
  {
    name: 'in memory',
    async start() {
      const db = new InMemoryDatabase();
      const rows = async () => [...db.tables.accountRequests.values()];
      return { uow: new InMemoryUnitOfWork(db, options), queue: new InMemoryAccountRequestQueue(db), rows, parallel: false, stop: async () => undefined };
    },
  },
  ...backends.map((backend) => ({
    name: `TypeORM on ${backend.name}`,
    async start(): Promise<Store> {
      const db = await backend.start();
      const rows = () =>
        db.dataSource.query(
          `SELECT id, kind, username, sealed_payload AS "sealedPayload", attempts, processed_at AS "processedAt", claim_id AS "claimId" FROM account_requests`,
        );
      const uow = new TypeOrmUnitOfWork(db.dataSource, options);
      const purge = async (now: Date) => (await purgeExpiredRows(db.dataSource, now)).accountRequests;
      return { uow, queue: new TypeOrmAccountRequestQueue(db.dataSource), rows, parallel: backend.poolSize > 1, purge, stop: () => db.stop() };
    },
  })),
];

const registration = (email: string, username: string | null): AccountRequest => ({
  kind: 'registration',
  email,
  passwordHash: HASH,
  username,
  firstName: null,
  lastName: null,
});

/** The AccountRequests port and the worker's queue: one contract for the in-memory and the SQL adapters. */
describe.each(stores)('account requests on $name', (store) => {
  let s: Store;
  beforeAll(async () => {
    s = await store.start();
  });
  afterAll(async () => s?.stop());
  beforeEach(() => void (pokes.length = 0));
  const lease = (seconds: number) => new Date(clock.now().getTime() + seconds * 1000);

  it('records in the transaction (a rollback records nothing), seals the payload and pokes only after commit', async () => {
    await expect(
      s.uow.run(async (repos) => {
        await repos.accountRequests.add(registration('rolled@example.com', null), CLIENT);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(pokes).toEqual([]);
    await s.uow.run((repos) => repos.accountRequests.add(registration('alice@example.com', 'alice'), CLIENT));
    expect(pokes).toEqual(['poke']);
    const rows = await s.rows();
    expect(rows.map((r) => [r.kind, r.username])).toEqual([['registration', 'alice']]);
    const dump = JSON.stringify(rows);
    for (const secret of ['alice@example.com', HASH, CLIENT.ip, CLIENT.userAgent]) expect(dump).not.toContain(secret);
    const [claimed] = await s.queue.claimDue(clock.now(), 10, lease(60));
    expect(openAccountRequest(box, claimed!)).toMatchObject({ request: registration('alice@example.com', 'alice'), client: CLIENT });
    await expect(s.uow.run((repos) => repos.accountRequests.complete(claimed!, clock.now()))).resolves.toBe(true);
  });

  it('a pending registration reserves its username; once processed the name is free again', async () => {
    await s.uow.run((repos) => repos.accountRequests.add(registration('a@example.com', 'neo'), CLIENT));
    await expect(s.uow.run((repos) => repos.accountRequests.add(registration('b@example.com', 'neo'), CLIENT))).rejects.toMatchObject({
      code: 'USERNAME_TAKEN',
    });
    await s.uow.run((repos) => repos.accountRequests.add({ kind: 'password_reset', email: 'a@example.com' }, CLIENT));
    const claims = await s.queue.claimDue(clock.now(), 10, lease(60));
    for (const claim of claims) await s.uow.run((repos) => repos.accountRequests.complete(claim, clock.now()));
    await s.uow.run((repos) => repos.accountRequests.add(registration('b@example.com', 'neo'), CLIENT));
    const pending = (await s.rows()).filter((r) => r.processedAt === null);
    expect(pending.map((r) => r.username)).toEqual(['neo']);
    const processed = (await s.rows()).filter((r) => r.processedAt !== null);
    expect(processed.every((r) => r.sealedPayload === null && r.username === null)).toBe(true);
  });

  it('claims are leases: only the claim that holds a request completes it, once; failures come back later', async () => {
    const due = () => s.queue.claimDue(clock.now(), 10, lease(60));
    for (const left of await due()) await s.uow.run((repos) => repos.accountRequests.complete(left, clock.now()));
    await s.uow.run((repos) => repos.accountRequests.add({ kind: 'verification_resend', email: 'c@example.com' }, CLIENT));
    const [first] = await due();
    expect(openAccountRequest(box, first!).request).toEqual({ kind: 'verification_resend', email: 'c@example.com' });
    expect(await due()).toEqual([]);
    clock.advance(61);
    const [second] = await due();
    expect(second).toMatchObject({ id: first!.id, attempts: 2 });
    await expect(s.uow.run((repos) => repos.accountRequests.complete(first!, clock.now()))).resolves.toBe(false);
    await s.queue.markFailed(first!, 'stale claim', lease(10));
    await s.queue.markFailed(second!, 'boom', lease(10));
    expect(await due()).toEqual([]);
    clock.advance(11);
    const [third] = await due();
    await s.queue.abandon(second!, 'stale claim', clock.now());
    await expect(s.uow.run((repos) => repos.accountRequests.complete(third!, clock.now()))).resolves.toBe(true);
    await expect(s.uow.run((repos) => repos.accountRequests.complete(third!, clock.now()))).resolves.toBe(false);
    expect(await due()).toEqual([]);
  });

  it('a handler reserving a username that a worker is taking right now waits for it, then sees the account', async () => {
    if (!s.parallel) return; // one connection or one in-memory transaction at a time: there is no interleaving
    await s.uow.run((repos) => repos.accountRequests.add(registration('first@example.com', 'trinity'), CLIENT));
    const [claim] = await s.queue.claimDue(clock.now(), 10, lease(60));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let completed!: () => void;
    const marked = new Promise<void>((resolve) => (completed = resolve));
    const worker = s.uow.run(async (repos) => {
      await repos.accountRequests.complete(claim!, clock.now());
      const user = User.register(
        { id: UserId.create(randomUUID()), email: Email.create('first@example.com'), username: Username.create('trinity'), firstName: null, lastName: null, passwordHash: HASH, emailVerified: false },
        clock.now(),
      );
      await repos.users.add(user);
      completed();
      await held;
    });
    await marked;
    // What RegisterUser does: reserve, then look the name up.
    const handler = s.uow.run(async (repos) => {
      await repos.accountRequests.add(registration('second@example.com', 'trinity'), CLIENT);
      return repos.users.findByUsername('trinity');
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    release();
    await worker;
    await expect(handler).resolves.toMatchObject({ email: 'first@example.com' });
  });

  it('purge-expired deletes processed requests after a week and never a pending one', async () => {
    if (!s.purge) return; // the in-memory tables live as long as the process
    await s.uow.run((repos) => repos.accountRequests.add({ kind: 'password_reset', email: 'p@example.com' }, CLIENT));
    clock.advance(8 * 86400);
    const before = await s.rows();
    const processed = before.filter((r) => r.processedAt !== null).length;
    expect(processed).toBeGreaterThan(0);
    await expect(s.purge(clock.now())).resolves.toBe(processed);
    expect((await s.rows()).every((r) => r.processedAt === null)).toBe(true);
    expect((await s.rows()).length).toBe(before.length - processed);
  });
});
