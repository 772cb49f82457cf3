import { randomBytes } from 'node:crypto';
import type { AccountRequest } from '@application/ports/account-requests';
import { openAccountRequest } from '@infrastructure/jobs/account-request-queue';
import { AesGcmSecretBox } from '@infrastructure/security/crypto/aes-gcm-secret-box';
import { ManualClock } from '@infrastructure/time/system-clock';
import { ADAPTERS, type Store } from '../../support/persistence';
import { aUser } from '../../support/mothers';

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA';
const CLIENT = { ip: '198.51.100.9', userAgent: 'contract-suite', requestId: 'req-1' };

const clock = new ManualClock(new Date('2026-03-01T00:00:00.000Z'));
const box = new AesGcmSecretBox(randomBytes(32));
const pokes: string[] = [];

const registration = (email: string, username: string | null): AccountRequest => ({
  kind: 'registration',
  email,
  passwordHash: HASH,
  username,
  firstName: null,
  lastName: null,
});

/** The AccountRequests port and the worker's queue: one contract for every adapter. */
describe.each(ADAPTERS)('account requests on $name', (adapter) => {
  let s: Store;
  beforeAll(async () => {
    s = await adapter.start({ secretBox: box, clock, wake: { accountRequests: () => void pokes.push('poke') } });
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
    const rows = await s.accountRequests();
    expect(rows.map((r) => [r.kind, r.username])).toEqual([['registration', 'alice']]);
    const dump = JSON.stringify(rows);
    for (const secret of ['alice@example.com', HASH, CLIENT.ip, CLIENT.userAgent]) expect(dump).not.toContain(secret);
    const [claimed] = await s.accountRequestQueue.claimDue(clock.now(), 10, lease(60));
    expect(openAccountRequest(box, claimed!)).toMatchObject({ request: registration('alice@example.com', 'alice'), client: CLIENT });
    await expect(s.uow.run((repos) => repos.accountRequests.complete(claimed!, clock.now()))).resolves.toBe(true);
  });

  it('a pending registration reserves its username; once processed the name is free again', async () => {
    await s.uow.run((repos) => repos.accountRequests.add(registration('a@example.com', 'neo'), CLIENT));
    await expect(s.uow.run((repos) => repos.accountRequests.add(registration('b@example.com', 'neo'), CLIENT))).rejects.toMatchObject({
      code: 'USERNAME_TAKEN',
    });
    await s.uow.run((repos) => repos.accountRequests.add({ kind: 'password_reset', email: 'a@example.com' }, CLIENT));
    const claims = await s.accountRequestQueue.claimDue(clock.now(), 10, lease(60));
    for (const claim of claims) await s.uow.run((repos) => repos.accountRequests.complete(claim, clock.now()));
    await s.uow.run((repos) => repos.accountRequests.add(registration('b@example.com', 'neo'), CLIENT));
    const pending = (await s.accountRequests()).filter((r) => r.processedAt === null);
    expect(pending.map((r) => r.username)).toEqual(['neo']);
    const processed = (await s.accountRequests()).filter((r) => r.processedAt !== null);
    expect(processed.every((r) => r.sealedPayload === null && r.username === null)).toBe(true);
  });

  it('claims are leases: only the claim that holds a request completes it, once; failures come back later', async () => {
    const due = () => s.accountRequestQueue.claimDue(clock.now(), 10, lease(60));
    for (const left of await due()) await s.uow.run((repos) => repos.accountRequests.complete(left, clock.now()));
    await s.uow.run((repos) => repos.accountRequests.add({ kind: 'verification_resend', email: 'c@example.com' }, CLIENT));
    const [first] = await due();
    expect(openAccountRequest(box, first!).request).toEqual({ kind: 'verification_resend', email: 'c@example.com' });
    expect(await due()).toEqual([]);
    clock.advance(61);
    const [second] = await due();
    expect(second).toMatchObject({ id: first!.id, attempts: 2 });
    await expect(s.uow.run((repos) => repos.accountRequests.complete(first!, clock.now()))).resolves.toBe(false);
    // A stale claim's failure changes nothing; the holder's own failure is counted in the row, an outage is not.
    await s.accountRequestQueue.markFailed(first!, 'stale claim', lease(10), true);
    await s.accountRequestQueue.markFailed(second!, 'boom', lease(10), true);
    expect(await due()).toEqual([]);
    clock.advance(11);
    const [outaged] = await due();
    expect(outaged).toMatchObject({ id: first!.id, attempts: 3, failures: 1 });
    await s.accountRequestQueue.markFailed(outaged!, 'database unreachable', lease(10), false);
    clock.advance(11);
    const [third] = await due();
    expect(third).toMatchObject({ id: first!.id, attempts: 4, failures: 1 });
    await s.accountRequestQueue.abandon(second!, 'stale claim', clock.now());
    await expect(s.uow.run((repos) => repos.accountRequests.complete(third!, clock.now()))).resolves.toBe(true);
    await expect(s.uow.run((repos) => repos.accountRequests.complete(third!, clock.now()))).resolves.toBe(false);
    expect(await due()).toEqual([]);
  });

  it('a released claim is due again at once, its attempt not counted; a stale claim cannot release, a processed request stays processed', async () => {
    const due = () => s.accountRequestQueue.claimDue(clock.now(), 10, lease(60));
    for (const left of await due()) await s.uow.run((repos) => repos.accountRequests.complete(left, clock.now()));
    await s.uow.run((repos) => repos.accountRequests.add({ kind: 'verification_resend', email: 'r1@example.com' }, CLIENT));
    await s.uow.run((repos) => repos.accountRequests.add({ kind: 'verification_resend', email: 'r2@example.com' }, CLIENT));
    const first = await due();
    expect(first).toHaveLength(2);
    await s.accountRequestQueue.release(first);
    const second = await due();
    expect(second.map((c) => [c.id, c.attempts]).sort()).toEqual(first.map((c) => [c.id, 1]).sort());
    // The first claim no longer holds them: its release changes nothing (they stay leased to the second).
    await s.accountRequestQueue.release(first);
    expect(await due()).toEqual([]);
    // One done, one handed back: only the pending one comes back.
    await expect(s.uow.run((repos) => repos.accountRequests.complete(second[0]!, clock.now()))).resolves.toBe(true);
    await s.accountRequestQueue.release(second);
    expect((await due()).map((c) => c.id)).toEqual([second[1]!.id]);
    await s.accountRequestQueue.release([]);
  });

  // One connection or one in-memory transaction at a time: there is no interleaving to stage.
  const whenParallel = adapter.parallel ? it : () => undefined;
  whenParallel('a handler reserving a username that a worker is taking right now waits for it, then sees the account', async () => {
    await s.uow.run((repos) => repos.accountRequests.add(registration('first@example.com', 'trinity'), CLIENT));
    const [claim] = await s.accountRequestQueue.claimDue(clock.now(), 10, lease(60));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let completed!: () => void;
    const marked = new Promise<void>((resolve) => (completed = resolve));
    const worker = s.uow.run(async (repos) => {
      await repos.accountRequests.complete(claim!, clock.now());
      const user = aUser({ email: 'first@example.com', username: 'trinity', now: clock.now() });
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

  // The purge job is SQL only: the in-memory tables live as long as the process.
  const whenSql = adapter.kind === 'sql' ? it : () => undefined;
  whenSql('purge-expired deletes processed requests after a week and never a pending one', async () => {
    await s.uow.run((repos) => repos.accountRequests.add({ kind: 'password_reset', email: 'p@example.com' }, CLIENT));
    clock.advance(8 * 86400);
    const before = await s.accountRequests();
    const processed = before.filter((r) => r.processedAt !== null).length;
    expect(processed).toBeGreaterThan(0);
    await expect(s.purge!(clock.now())).resolves.toMatchObject({ accountRequests: processed });
    expect((await s.accountRequests()).every((r) => r.processedAt === null)).toBe(true);
    expect((await s.accountRequests()).length).toBe(before.length - processed);
  });
});
