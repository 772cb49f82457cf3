import { Client } from 'pg';
import { SQL_ADAPTERS, type Store } from '../../support/persistence';
import { anAuditEntry, aSession, aUser } from '../../support/mothers';

/**
 * The SQL unit of work holds its outbox events and audit entries until the work is done and writes them in one
 * statement before the COMMIT (src/infrastructure/persistence/typeorm/transaction-appends.ts). What that must
 * not change: they commit with the change and roll back with it, a failing append fails the whole transaction,
 * and outside a unit of work they are written at once. Statements are seen where every one of them passes, named
 * prepared statements included: pg's Client.query (TypeORM's logger never sees the named ones).
 */
const originalQuery = Client.prototype.query;

describe.each(SQL_ADAPTERS)('appends held to the end of a unit of work on $name', (adapter) => {
  let store: Store;
  let seen: string[] = [];
  /** The statements sent as named prepared statements (a `name` in pg's query config). */
  let named: string[] = [];

  beforeAll(async () => {
    store = await adapter.start();
    Client.prototype.query = function (this: Client, ...args: unknown[]) {
      const first = args[0] as string | { text?: string };
      const text = typeof first === 'string' ? first : (first?.text ?? '');
      seen.push(text.replace(/\s+/g, ' ').trim());
      if (typeof first === 'object' && first !== null && typeof (first as { name?: unknown }).name === 'string') named.push(text.replace(/\s+/g, ' ').trim());
      return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof Client.prototype.query;
  });
  afterAll(async () => {
    Client.prototype.query = originalQuery;
    await store?.stop();
  });
  beforeEach(() => {
    seen = [];
    named = [];
  });

  const appendsIn = (statements: string[]) => statements.filter((sql) => /INSERT INTO "(audit_events|outbox_events)"/.test(sql));

  it('writes every outbox event and audit entry of the work in one statement, just before the COMMIT, and commits them', async () => {
    const user = aUser();
    const session = aSession(user.id);
    session.revoke(new Date('2026-01-03T00:00:00.000Z'), 'logout');
    const first = anAuditEntry({ subjectId: user.id, reason: 'first' });
    const second = anAuditEntry({ subjectId: user.id, reason: 'second' });
    await store.uow.run(async (tx) => {
      await tx.audit.record(first);
      await tx.users.add(user); // auth.user.registered
      await tx.sessions.add(session); // auth.session.revoked
      await tx.audit.record(second);
    });
    const appends = appendsIn(seen);
    expect(appends).toHaveLength(1);
    expect(appends[0]).toMatch(/^WITH i1 AS \(INSERT INTO "audit_events" .*\) INSERT INTO "outbox_events" /);
    const index = seen.indexOf(appends[0]!);
    expect(seen[index + 1]).toBe('COMMIT');
    const events = (await store.outbox()).filter((row) => row.subject === user.id).map((row) => row.type).sort();
    expect(events).toEqual(['auth.session.revoked', 'auth.user.registered']);
    const reasons = (await store.auditEntries()).filter((entry) => entry.subjectId === user.id).map((entry) => entry.reason).sort();
    expect(reasons).toEqual(['first', 'second']);
  });

  it('rolls the held rows back with the change when the work throws, and writes none of them', async () => {
    const user = aUser();
    const failure = new Error('after the appends');
    await expect(
      store.uow.run(async (tx) => {
        await tx.users.add(user);
        await tx.audit.record(anAuditEntry({ subjectId: user.id }));
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(appendsIn(seen)).toEqual([]);
    await expect(store.repos.users.findById(user.id)).resolves.toBeNull();
    expect((await store.outbox()).filter((row) => row.subject === user.id)).toEqual([]);
    expect((await store.auditEntries()).filter((entry) => entry.subjectId === user.id)).toEqual([]);
  });

  it('fails the whole transaction when the held rows cannot be written: the change is rolled back', async () => {
    const user = aUser();
    // A NUL character, which no PostgreSQL text column takes: the one INSERT fails at the end of the work, inside
    // the transaction.
    const broken = anAuditEntry({ subjectId: user.id, reason: 'nul \u0000 inside' });
    await expect(
      store.uow.run(async (tx) => {
        await tx.users.add(user);
        await tx.audit.record(broken);
        return 'done';
      }),
    ).rejects.toThrow();
    expect(seen).toContain('ROLLBACK');
    await expect(store.repos.users.findById(user.id)).resolves.toBeNull();
    expect((await store.outbox()).filter((row) => row.subject === user.id)).toEqual([]);
  });

  it('keeps each transaction\'s held rows its own in parallel bursts: the committed ones write theirs, the failed ones none', async () => {
    for (let round = 0; round < 5; round += 1) {
      const users = Array.from({ length: 12 }, () => aUser());
      const outcomes = await Promise.allSettled(
        users.map((user, i) =>
          store.uow.run(async (tx) => {
            await tx.users.add(user);
            await tx.audit.record(anAuditEntry({ subjectId: user.id, reason: `own ${user.id}` }));
            // Every third one fails after its appends are held, while the others' are held or being written.
            await new Promise((resolve) => setImmediate(resolve));
            if (i % 3 === 0) throw new Error(`rolled back ${user.id}`);
            await tx.audit.record(anAuditEntry({ subjectId: user.id, reason: `own ${user.id}` }));
          }),
        ),
      );
      expect(outcomes.map((outcome) => outcome.status)).toEqual(users.map((_, i) => (i % 3 === 0 ? 'rejected' : 'fulfilled')));
      const ids = new Set(users.map((user) => user.id));
      const audit = (await store.auditEntries()).filter((entry) => entry.subjectId !== null && ids.has(entry.subjectId));
      const outbox = (await store.outbox()).filter((row) => ids.has(row.subject));
      users.forEach((user, i) => {
        const kept = i % 3 !== 0;
        // Each entry lands under its own subject (never another transaction's), twice for a committed one.
        expect(audit.filter((entry) => entry.subjectId === user.id).map((entry) => entry.reason)).toEqual(kept ? [`own ${user.id}`, `own ${user.id}`] : []);
        expect(outbox.filter((row) => row.subject === user.id).map((row) => row.type)).toEqual(kept ? ['auth.user.registered'] : []);
      });
      expect(audit.every((entry) => entry.reason === `own ${entry.subjectId}`)).toBe(true);
    }
  });

  it('writes more rows than one statement can carry (65,535 parameters) in several, in order, and commits them all', async () => {
    // A review of stop 51: an account with more than about 8,190 live sessions could no longer be secured (a reset, a
    // global logout, a deletion revoke each session with an event); the one INSERT passed the protocol's limit, 08P01,
    // and the change rolled back. 9,000 audit entries of 11 columns are 99,000 parameters.
    const user = aUser();
    const count = 9000;
    await store.uow.run(async (tx) => {
      await tx.users.add(user);
      for (let i = 0; i < count; i += 1) await tx.audit.record(anAuditEntry({ subjectId: user.id, reason: `r${i}` }));
    });
    const appends = appendsIn(seen);
    expect(appends.length).toBeGreaterThan(1);
    expect(seen[seen.lastIndexOf(appends[appends.length - 1]!) + 1]).toBe('COMMIT');
    // The event first (one row), then the entries, 500 rows a statement.
    expect(appends.map((sql) => [sql.startsWith('INSERT INTO "outbox_events"') ? 'outbox' : 'audit', (sql.match(/\(\$/g) ?? []).length])).toEqual([
      ['outbox', 1],
      ...Array.from({ length: 18 }, () => ['audit', 500]),
    ]);
    const reasons = (await store.auditEntries()).filter((entry) => entry.subjectId === user.id).map((entry) => entry.reason);
    expect(reasons).toHaveLength(count);
    expect(new Set(reasons).size).toBe(count);
    expect((await store.outbox()).filter((row) => row.subject === user.id).map((row) => row.type)).toEqual(['auth.user.registered']);
  });

  it('prepares by name only the short appends: a long one, whose text holds its row count, goes unnamed', async () => {
    // A review of stop 51: each different number of sessions revoked at once left one more named statement on the
    // connection for good (300 logouts took one backend from 4.4 MB to 87 MB).
    for (const count of [2, 40, 41]) {
      const user = aUser();
      await store.uow.run(async (tx) => {
        await tx.users.add(user);
        for (let i = 0; i < count; i += 1) await tx.audit.record(anAuditEntry({ subjectId: user.id, reason: `r${i}` }));
      });
      expect((await store.auditEntries()).filter((entry) => entry.subjectId === user.id)).toHaveLength(count);
    }
    const namedAppends = appendsIn(named);
    // Only the data source that prepares statements (the PostgreSQL server's) names any: the short one alone.
    if (adapter.name === 'PostgreSQL server') expect(namedAppends).toHaveLength(1);
    expect(namedAppends.every((sql) => (sql.match(/\(\$/g) ?? []).length <= 16)).toBe(true);
  });

  it('writes at once outside a unit of work, and holds nothing for the next one', async () => {
    const subjectId = aUser().id;
    await store.repos.audit.record(anAuditEntry({ subjectId, reason: 'alone' }));
    expect(appendsIn(seen)).toHaveLength(1);
    expect((await store.auditEntries()).filter((entry) => entry.subjectId === subjectId).map((entry) => entry.reason)).toEqual(['alone']);

    // A unit of work that appends nothing sends no INSERT for them.
    const user = aUser();
    await store.uow.run((tx) => tx.users.add(user));
    seen = [];
    await store.uow.run(async (tx) => {
      await tx.users.findByIdForUpdate(user.id);
    });
    expect(seen.length).toBeGreaterThan(0);
    expect(appendsIn(seen)).toEqual([]);
  });
});
