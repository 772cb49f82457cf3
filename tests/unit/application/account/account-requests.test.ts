import { randomBytes } from 'node:crypto';
import { openAccountRequest } from '@infrastructure/jobs/account-request-queue';
import { AccountRequestWorker } from '@infrastructure/jobs/account-request-worker';
import { InMemoryAccountRequestQueue } from '@infrastructure/persistence/memory/in-memory-account-requests';
import { AesGcmSecretBox } from '@infrastructure/security/crypto/aes-gcm-secret-box';
import { dependencyUnreachable, transactionContended } from '@interface/dependency-outage';
import { ProcessAccountRequest } from '@application/account/process-account-request';
import { VerificationTokens } from '@application/account/verification-tokens';
import { PORTS } from '@application/ports/tokens';
import type { Guarded, Repositories, UnitOfWork } from '@application/ports/unit-of-work';
import type { User } from '@domain/user/user';
import { CLIENT, PASSWORD, createKit } from '../support/test-kit';
import { aSession, aVerifiedUser } from '../../../support/mothers';

type Kit = Awaited<ReturnType<typeof createKit>>;
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** The kit's worker stopped: requests stay pending until `work()` runs a fresh worker over the same tables. */
async function pausedKit() {
  const kit = await createKit();
  await kit.requestWorker.stop();
  const work = async (box = kit.box, settings?: ConstructorParameters<typeof AccountRequestWorker>[4]) => {
    const worker = new AccountRequestWorker(new InMemoryAccountRequestQueue(kit.db), box, kit.clock, silent, settings);
    worker.handleWith(kit.useCases.ProcessAccountRequest);
    await worker.drain();
  };
  return { kit, work, rows: () => [...kit.db.tables.accountRequests.values()] };
}

function existingUser(kit: Kit, email: string, username: string) {
  const user = aVerifiedUser({ email, username, firstName: null, passwordHash: '$argon2id$x', now: kit.clock.now() });
  return kit.repos.users.add(user);
}

describe('account requests: the handler records, the worker acts', () => {
  it('register, reset and resend each only record one sealed request; nothing about the account is touched', async () => {
    const { kit, rows } = await pausedKit();
    await kit.useCases.RegisterUser.execute({ email: 'alice@example.com', password: PASSWORD, username: 'alice', client: CLIENT });
    await kit.useCases.RequestPasswordReset.execute({ email: 'bob@example.com', client: CLIENT });
    await kit.useCases.ResendVerification.execute({ email: 'carol@example.com', client: CLIENT });
    expect(rows().map((r) => [r.kind, r.username, r.processedAt])).toEqual([
      ['registration', 'alice', null],
      ['password_reset', null, null],
      ['verification_resend', null, null],
    ]);
    const dump = JSON.stringify(rows());
    for (const secret of [PASSWORD, 'alice@example.com', 'bob@example.com', '$argon2id$', CLIENT.ip]) expect(dump).not.toContain(secret);
    expect(kit.db.tables.users.size).toBe(0);
    expect(kit.db.tables.auditEvents).toEqual([]);
    expect(kit.db.tables.emails.size).toBe(0);
  });

  it('the worker creates the account (audit entry, event, verification email) and forgets the payload', async () => {
    const { kit, work, rows } = await pausedKit();
    await kit.useCases.RegisterUser.execute({ email: 'alice@example.com', password: PASSWORD, username: 'alice', firstName: 'Alice', client: CLIENT });
    await work();
    const user = await kit.repos.users.findByEmail('alice@example.com');
    expect([user?.username, user?.toState().firstName, user?.status]).toEqual(['alice', 'Alice', 'pending_verification']);
    expect(kit.mailer.inbox('alice@example.com').map((m) => m.subject)).toEqual(['Verify your email address']);
    expect(kit.auditTypes()).toEqual(['user.registered']);
    expect(kit.db.tables.auditEvents[0]).toMatchObject({ ip: CLIENT.ip, userAgent: CLIENT.userAgent });
    expect(kit.eventTypes()).toEqual(['auth.user.registered']);
    expect(rows()).toEqual([expect.objectContaining({ processedAt: expect.any(Date), sealedPayload: null, username: null })]);
  });

  it('a taken username answers USERNAME_TAKEN whatever the email: new, another account, or the holder itself', async () => {
    const kit = await createKit();
    await kit.registerVerified('holder@example.com', 'neo');
    await kit.registerVerified('other@example.com');
    for (const email of ['new@example.com', 'other@example.com', 'holder@example.com']) {
      await expect(kit.useCases.RegisterUser.execute({ email, password: PASSWORD, username: 'Neo', client: CLIENT })).rejects.toMatchObject({
        code: 'USERNAME_TAKEN',
      });
    }
    expect([...kit.db.tables.accountRequests.values()].filter((r) => r.kind === 'registration')).toHaveLength(2);
    expect(kit.mailer.inbox('other@example.com')).toHaveLength(1);
  });

  it('a pending registration reserves its username: a second one with the same name is USERNAME_TAKEN at once', async () => {
    const { kit, work } = await pausedKit();
    await kit.useCases.RegisterUser.execute({ email: 'a@example.com', password: PASSWORD, username: 'neo', client: CLIENT });
    await expect(kit.useCases.RegisterUser.execute({ email: 'b@example.com', password: PASSWORD, username: 'neo', client: CLIENT })).rejects.toMatchObject({
      code: 'USERNAME_TAKEN',
    });
    await work();
    expect((await kit.repos.users.findByUsername('neo'))?.email).toBe('a@example.com');
  });

  it('a username taken between the answer and the worker: no account, the requester is told by email', async () => {
    const { kit, work, rows } = await pausedKit();
    await kit.useCases.RegisterUser.execute({ email: 'late@example.com', password: PASSWORD, username: 'neo', client: CLIENT });
    await existingUser(kit, 'quick@example.com', 'neo');
    await work();
    expect(await kit.repos.users.findByEmail('late@example.com')).toBeNull();
    expect(kit.mailer.inbox('late@example.com').map((m) => m.subject)).toEqual(['Your account was not created']);
    expect(rows()[0]?.processedAt).toEqual(expect.any(Date));
  });

  it('the "not created" email does not repeat the username: another account chose that text (outside review)', async () => {
    const { kit, work } = await pausedKit();
    const name = 'secure-loginrqp8.example';
    await kit.useCases.RegisterUser.execute({ email: 'late@example.com', password: PASSWORD, username: name, client: CLIENT });
    const other = aVerifiedUser({ email: 'mallory@example.com', username: 'mallory', firstName: null, passwordHash: '$argon2id$x', now: kit.clock.now() });
    await kit.repos.users.add(other);
    const session = aSession(other.id, { now: kit.clock.now() });
    await kit.repos.sessions.add(session);
    await kit.useCases.UpdateProfile.execute({ userId: other.id, sessionId: session.id, username: name, client: CLIENT });
    await work();
    const [mail] = kit.mailer.inbox('late@example.com');
    expect(mail?.subject).toBe('Your account was not created');
    for (const part of ['text', 'html'] as const) {
      expect({ part, body: mail?.[part] }).toEqual({ part, body: expect.not.stringMatching(/secure-login|rqp8|mallory/i) });
      expect({ part, body: mail?.[part] }).toEqual({ part, body: expect.stringContaining('the username chosen for it was taken') });
    }
  });

  it('an existing address gets "account exists" instead, even when its own request also asks for a taken name', async () => {
    const { kit, work } = await pausedKit();
    await existingUser(kit, 'owner@example.com', 'owner');
    await kit.useCases.RegisterUser.execute({ email: 'owner@example.com', password: PASSWORD, client: CLIENT });
    await work();
    expect(kit.mailer.inbox('owner@example.com').map((m) => m.subject)).toEqual(['You already have an account']);
    expect(kit.db.tables.users.size).toBe(1);
  });

  /**
   * A review of stop 63: a contested sign-up removed the unproven password with no `credentials.updated` row, and its
   * rows named the account as its own actor (its activity showed the second factor switched off by the account itself,
   * from the stranger's address).
   */
  it('a contested sign-up records the password it removed, with no actor (an anonymous sign-up did it)', async () => {
    const kit = await createKit();
    const email = 'contested-audit@example.com';
    await kit.useCases.RegisterUser.execute({ email, password: PASSWORD, client: CLIENT });
    const squatter = await kit.repos.users.findByEmail(email);
    const auditsBefore = kit.db.tables.auditEvents.length;

    await kit.useCases.RegisterUser.execute({ email, password: 'the mailbox owner typed this', client: CLIENT });

    const rows = kit.db.tables.auditEvents.slice(auditsBefore).map((e) => [e.type, e.actorId, e.subjectId, e.reason]);
    expect(rows).toEqual([
      ['user.registered', null, squatter!.id, 'contested_unverified'],
      ['credentials.updated', null, squatter!.id, 'registration_contested'],
    ]);
  });

  it('a suspended unverified account is not contested: a sign-up of its address leaves it as the admin left it', async () => {
    // Security review (2026-12-05): the contest wiped the suspended account's password and profile, ended its
    // sessions and mailed a "choose a password" link that a suspended account cannot redeem.
    const kit = await createKit();
    const admin = await kit.anAdmin();
    const email = 'squatted@example.com';
    await kit.useCases.RegisterUser.execute({ email, password: PASSWORD, username: 'squatter', firstName: 'Sq', client: CLIENT });
    const squatter = await kit.repos.users.findByEmail(email);
    await kit.useCases.UpdateUser.execute({ actor: admin, userId: squatter!.id, status: 'suspended' });
    const before = structuredClone(kit.db.tables.users.get(squatter!.id));
    const tokensBefore = structuredClone([...kit.db.tables.oneTimeTokens.values()]);
    const auditsBefore = kit.db.tables.auditEvents.length;

    await kit.useCases.RegisterUser.execute({ email, password: 'the mailbox owner typed this', client: CLIENT });

    const after = kit.db.tables.users.get(squatter!.id);
    expect(after).toEqual(before);
    expect([after?.status, after?.emailVerified, after?.username]).toEqual(['suspended', false, 'squatter']);
    expect(after?.credentials).toEqual(before?.credentials);
    expect([...kit.db.tables.oneTimeTokens.values()]).toEqual(tokensBefore);
    expect(kit.db.tables.auditEvents.slice(auditsBefore)).toEqual([]);
    // Treated as any taken address: the "account exists" email, no "choose a password" link.
    expect(kit.mailer.inbox(email).map((m) => m.subject)).toEqual(['Verify your email address', 'You already have an account']);
    expect([...kit.db.tables.users.values()].filter((u) => u.email === email)).toHaveLength(1);
  });

  it('a request recorded before stop 30 with the A-label spelling of an address reaches that address’s account', async () => {
    // The version before stop 30 kept `xn--` labels as typed in the request it sealed; the worker runs after the upgrade.
    const { kit, work } = await pausedKit();
    await existingUser(kit, 'owner@bücher.example', 'owner');
    const spelled = 'owner@xn--bcher-kva.example';
    const recorded = { passwordHash: '$argon2id$y', username: null, firstName: null, lastName: null };
    await kit.uow.run(async (repos) => {
      await repos.accountRequests.add({ kind: 'registration', email: spelled, ...recorded }, CLIENT);
      await repos.accountRequests.add({ kind: 'password_reset', email: spelled }, CLIENT);
    });
    await work();
    expect(kit.db.tables.users.size).toBe(1);
    expect(kit.mailer.sent.map((m) => [m.to, m.subject]).sort()).toEqual([
      ['owner@bücher.example', 'Reset your password'],
      ['owner@bücher.example', 'You already have an account'],
    ]);
  });

  it('reset: the worker mints the link, emits the event and audits; unknown addresses are audited as such', async () => {
    const kit = await createKit();
    await kit.registerVerified('alice@example.com');
    await kit.useCases.RequestPasswordReset.execute({ email: 'alice@example.com', client: CLIENT });
    await kit.useCases.RequestPasswordReset.execute({ email: 'nobody@example.com', client: CLIENT });
    expect(kit.mailer.inbox('alice@example.com').map((m) => m.subject)).toEqual(['Verify your email address', 'Reset your password']);
    expect(kit.eventTypes()).toContain('auth.password.reset_requested');
    const audits = kit.db.tables.auditEvents.filter((e) => e.type === 'password.reset_requested').map((e) => [e.outcome, e.reason]);
    expect(audits).toEqual([
      ['success', null],
      ['failure', 'unknown_account'],
    ]);
  });

  it('only the claim that holds a request completes it: a claim whose lease was taken over does nothing', async () => {
    const { kit } = await pausedKit();
    const queue = new InMemoryAccountRequestQueue(kit.db);
    await kit.useCases.RequestPasswordReset.execute({ email: 'nobody@example.com', client: CLIENT });
    const lease = (s: number) => new Date(kit.clock.now().getTime() + s * 1000);
    const [first] = await queue.claimDue(kit.clock.now(), 10, lease(60));
    expect(await queue.claimDue(kit.clock.now(), 10, lease(60))).toEqual([]);
    kit.clock.advance(61);
    const [second] = await queue.claimDue(kit.clock.now(), 10, lease(60));
    await kit.useCases.ProcessAccountRequest.execute(first!, openAccountRequest(kit.box, first!));
    expect(kit.auditTypes()).toEqual([]);
    await kit.useCases.ProcessAccountRequest.execute(second!, openAccountRequest(kit.box, second!));
    await kit.useCases.ProcessAccountRequest.execute(second!, openAccountRequest(kit.box, second!));
    expect(kit.auditTypes()).toEqual(['password.reset_requested']);
  });

  it('a request that keeps failing is retried with backoff, then given up and its username freed', async () => {
    const { kit, work, rows } = await pausedKit();
    await kit.useCases.RegisterUser.execute({ email: 'a@example.com', password: PASSWORD, username: 'neo', client: CLIENT });
    const otherKey = new AesGcmSecretBox(randomBytes(32));
    const settings = { batchSize: 5, pollIntervalMs: 60_000, leaseSeconds: 60, baseRetrySeconds: 10, maxRetrySeconds: 10, maxAttempts: 2, pokeDelayMs: 0 };
    await work(otherKey, settings);
    expect(rows()[0]).toMatchObject({ attempts: 1, processedAt: null, lastError: expect.any(String) });
    kit.clock.advance(11);
    await work(otherKey, settings);
    expect(rows()[0]).toMatchObject({ attempts: 2, processedAt: expect.any(Date), sealedPayload: null, username: null });
    expect(kit.db.tables.users.size).toBe(0);
  });
});

/**
 * Outside review (2026-12-02): stop() drained everything due, whatever its size; a backlog of requests outlasted the
 * process's 30-s shutdown limit, so the e-mail sender and the event relay stopped after it never stopped gracefully.
 */
describe('account request worker: a bounded stop', () => {
  it('stop() hands out what is due for stopDrainMs at most, ends after the request in hand, and leaves the rest queued', async () => {
    const { kit, rows } = await pausedKit();
    for (let i = 0; i < 30; i += 1) await kit.useCases.RequestPasswordReset.execute({ email: `backlog-${i}@example.com`, client: CLIENT });
    const processor = kit.useCases.ProcessAccountRequest;
    const execute = processor.execute.bind(processor);
    let handled = 0;
    const slow = jest.spyOn(processor, 'execute').mockImplementation(async (...args) => {
      await new Promise((resolve) => setTimeout(resolve, 100)); // a slow database: 100 ms a request
      handled += 1;
      return execute(...args);
    });
    const worker = new AccountRequestWorker(new InMemoryAccountRequestQueue(kit.db), kit.box, kit.clock, silent, {
      batchSize: 5, pollIntervalMs: 60_000, leaseSeconds: 120, baseRetrySeconds: 5, maxRetrySeconds: 900, maxAttempts: 10, pokeDelayMs: 0, stopDrainMs: 300,
    });
    worker.handleWith(processor);
    await worker.stop();
    slow.mockRestore();
    // 300 ms of handing out, then the request in hand: about 4 of the 30 (all 30 before the fix).
    expect(handled).toBeGreaterThan(0);
    expect(handled).toBeLessThan(10);
    expect(rows().filter((r) => r.processedAt === null)).toHaveLength(30 - handled);
    // The rest of the batch in hand is handed back, not left leased for leaseSeconds: another instance or the restart
    // takes it at once (until 2026-12-07 it waited out the lease, 2 minutes, though the README said it did not).
    expect(handled % 5).not.toBe(0); // stopped within a batch (300 ms at 100 ms a request)
    const leftover = rows().filter((r) => r.processedAt === null);
    expect(leftover.filter((r) => r.lockedUntil !== null || r.claimId !== null || r.attempts !== 0)).toEqual([]);
  });
});

/**
 * Security review (2026-12-05): ten failed attempts of any kind gave a request up, outages included, so a database
 * away for under an hour silently dropped the sign-ups recorded before it. Outages now count toward the age only.
 */
describe('account request worker: outages are retried until the age limit, failures of the request itself are counted', () => {
  const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  // The classification the composition root passes (src/config/infrastructure.ts).
  const isOutage = (error: unknown) => dependencyUnreachable(error) || transactionContended(error);
  const settings = { batchSize: 5, pollIntervalMs: 60_000, leaseSeconds: 60, baseRetrySeconds: 5, maxRetrySeconds: 900, maxAttempts: 10, pokeDelayMs: 0, isOutage };

  /** The kit's database behind a switch: while `failure` is set, every transaction fails with it (an unreachable PostgreSQL first). */
  class SwitchedDatabase implements UnitOfWork {
    failure: (() => Error) | null = refused;
    transactions = 0;
    constructor(private readonly inner: UnitOfWork) {}
    run<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
      this.transactions += 1;
      return this.failure ? Promise.reject(this.failure()) : this.inner.run(work);
    }
    runIfUnchanged<T>(user: User, work: (repos: Repositories) => Promise<T>): Promise<Guarded<T>> {
      return this.failure ? Promise.reject(this.failure()) : this.inner.runIfUnchanged(user, work);
    }
    runInserts<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
      return this.failure ? Promise.reject(this.failure()) : this.inner.runInserts(work);
    }
  }

  /** One worker (as one running instance) whose use case runs on the switched database. */
  async function outageKit() {
    const { kit, rows } = await pausedKit();
    const database = new SwitchedDatabase(kit.uow);
    const processor = new ProcessAccountRequest(
      database,
      kit.resolve(VerificationTokens),
      kit.resolve(PORTS.OpaqueTokens),
      kit.resolve(PORTS.IdGenerator),
      kit.clock,
      kit.settings,
    );
    const logs: string[] = [];
    const log = (_fields: unknown, message: string) => void logs.push(message);
    const worker = new AccountRequestWorker(new InMemoryAccountRequestQueue(kit.db), kit.box, kit.clock, { info: log, warn: log, error: log }, settings);
    worker.handleWith(processor);
    return { kit, rows, database, worker, logs };
  }

  it('a sign-up that meets the database away for 15 attempts (over 3 hours) is processed once it is back', async () => {
    const { kit, rows, database, worker, logs } = await outageKit();
    await kit.useCases.RegisterUser.execute({ email: 'patient@example.com', password: PASSWORD, username: 'patient', client: CLIENT });
    for (let attempt = 1; attempt <= 15; attempt += 1) {
      await worker.drain();
      expect(rows()[0]).toMatchObject({ attempts: attempt, processedAt: null, lastError: expect.stringContaining('ECONNREFUSED') });
      // Backed off, not a hot loop: nothing more is tried until the retry is due.
      const tried = database.transactions;
      await worker.drain();
      expect(database.transactions).toBe(tried);
      kit.clock.advance(settings.maxRetrySeconds + 1);
    }
    expect(rows()[0]?.nextAttemptAt.getTime()).toBeLessThanOrEqual(kit.clock.now().getTime());
    database.failure = null;
    await worker.drain();
    expect(rows()[0]).toMatchObject({ attempts: 16, processedAt: expect.any(Date), sealedPayload: null });
    const user = await kit.repos.users.findByEmail('patient@example.com');
    expect([user?.username, user?.status]).toEqual(['patient', 'pending_verification']);
    expect(kit.mailer.inbox('patient@example.com').map((m) => m.subject)).toEqual(['Verify your email address']);
    expect(logs.filter((m) => m.includes('given up'))).toEqual([]);
  });

  it('after an outage, a failure of the request itself still counts from zero: given up after maxAttempts of those', async () => {
    const { kit, rows, database, worker } = await outageKit();
    await kit.useCases.RequestPasswordReset.execute({ email: 'nobody@example.com', client: CLIENT });
    for (let i = 0; i < 12; i += 1) {
      await worker.drain();
      kit.clock.advance(settings.maxRetrySeconds + 1);
    }
    // Back, but the request itself now fails (a bug, say): those failures count, ten of them give it up.
    database.failure = () => new TypeError("Cannot read properties of undefined (reading 'id')");
    for (let failures = 1; failures < settings.maxAttempts; failures += 1) {
      await worker.drain();
      expect(rows()[0]).toMatchObject({ processedAt: null });
      kit.clock.advance(settings.maxRetrySeconds + 1);
    }
    await worker.drain();
    expect(rows()[0]).toMatchObject({ attempts: 12 + settings.maxAttempts, processedAt: expect.any(Date), sealedPayload: null });
  });

  it('the outages a worker saw are known to the next one (a restart, another instance): one failure of its own does not give it up', async () => {
    const first = await outageKit();
    const { kit, rows, database } = first;
    await kit.useCases.RequestPasswordReset.execute({ email: 'nobody@example.com', client: CLIENT });
    for (let i = 0; i < 12; i += 1) {
      await first.worker.drain();
      kit.clock.advance(settings.maxRetrySeconds + 1);
    }
    expect(rows()[0]).toMatchObject({ attempts: 12, failures: 0, processedAt: null });
    // The instance restarts: a new worker, same table. The request now fails for itself, once, then succeeds.
    const logs: string[] = [];
    const log = (_fields: unknown, message: string) => void logs.push(message);
    const restarted = new AccountRequestWorker(new InMemoryAccountRequestQueue(kit.db), kit.box, kit.clock, { info: log, warn: log, error: log }, settings);
    restarted.handleWith(new ProcessAccountRequest(database, kit.resolve(VerificationTokens), kit.resolve(PORTS.OpaqueTokens), kit.resolve(PORTS.IdGenerator), kit.clock, kit.settings));
    database.failure = () => new TypeError("Cannot read properties of undefined (reading 'id')");
    await restarted.drain();
    expect(rows()[0]).toMatchObject({ attempts: 13, failures: 1, processedAt: null, sealedPayload: expect.any(String) });
    expect(logs).toEqual(['account request failed; queued for retry']);
    database.failure = null;
    kit.clock.advance(settings.maxRetrySeconds + 1);
    await restarted.drain();
    expect(rows()[0]).toMatchObject({ attempts: 14, failures: 1, processedAt: expect.any(Date), lastError: expect.stringContaining('Cannot read') });
  });

  it('a request still failing for an outage is given up once a retry would come 24 h after it was recorded', async () => {
    const { kit, rows, worker, logs } = await outageKit();
    await kit.useCases.RegisterUser.execute({ email: 'late@example.com', password: PASSWORD, username: 'late', client: CLIENT });
    let attempts = 0;
    while (rows()[0]?.processedAt === null && attempts < 200) {
      await worker.drain();
      attempts += 1;
      kit.clock.advance(settings.maxRetrySeconds + 1);
    }
    const [row] = rows();
    expect(row).toMatchObject({ processedAt: expect.any(Date), sealedPayload: null, username: null, lastError: expect.stringContaining('ECONNREFUSED') });
    // Retried through the day (the test runs each retry up to a backoff late), given up at its end, not before.
    const age = (row!.processedAt!.getTime() - row!.createdAt.getTime()) / 1000;
    expect(age).toBeGreaterThanOrEqual(86_400 - settings.maxRetrySeconds);
    expect(age).toBeLessThanOrEqual(86_400 + settings.maxRetrySeconds + 1);
    expect(attempts).toBeGreaterThan(settings.maxAttempts);
    expect(logs.filter((m) => m.includes('given up'))).toEqual(['account request not processed within 86400 s of being recorded; given up']);
    expect(await kit.repos.users.findByEmail('late@example.com')).toBeNull();
  });
});
