import { Client } from 'pg';
import { type DataSource, QueryFailedError } from 'typeorm';
import { createDataSource } from '@infrastructure/persistence/typeorm/data-source';
import { preparedQuery } from '@infrastructure/persistence/typeorm/prepared-query';
import { updateRows } from '@infrastructure/persistence/typeorm/raw-update';
import { TypeOrmSessionRepository } from '@infrastructure/persistence/typeorm/typeorm-session.repository';
import { TypeOrmUserRepository } from '@infrastructure/persistence/typeorm/typeorm-user.repository';
import { UserCredentialRecord } from '@infrastructure/persistence/typeorm/user.record';
import { aSession, aUser, rotated, T0 } from '../../support/mothers';
import { createScratchSchema, describeWhen, REAL_POSTGRES_SELECTED, type ScratchSchema } from '../../support/servers';

/**
 * The hot statements as named prepared statements (prepared-query.ts), on the real PostgreSQL: what pg is asked
 * to send (seen by wrapping Client#query), what the server then holds (pg_prepared_statements, per connection),
 * the same answers as unnamed statements, under parallel load on a small pool, and failures as TypeORM's.
 */
describeWhen(REAL_POSTGRES_SELECTED, 'PostgreSQL')('named prepared statements', () => {
  let scratch: ScratchSchema;
  let named: DataSource;
  let unnamed: DataSource;
  const sent: { name: string | undefined; text: string }[] = [];
  const originalQuery = Client.prototype.query;

  beforeAll(async () => {
    scratch = await createScratchSchema('prepared');
    named = await scratch.open(3); // the default: preparedStatements true
    unnamed = createDataSource({ url: scratch.url, poolSize: 3, preparedStatements: false });
    await unnamed.initialize();
    Client.prototype.query = function (this: Client, ...args: unknown[]) {
      const first = args[0] as string | { name?: string; text?: string };
      sent.push(typeof first === 'string' ? { name: undefined, text: first } : { name: first?.name, text: first?.text ?? '' });
      return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof Client.prototype.query;
  });
  afterAll(async () => {
    Client.prototype.query = originalQuery;
    if (unnamed?.isInitialized) await unnamed.destroy();
    await scratch?.drop();
  });
  beforeEach(() => {
    sent.length = 0;
  });

  const SQL = 'SELECT $1::int + 1 AS next';

  it('sends a statement with a name derived from its text, the same name for the same text, another for another', async () => {
    const [first] = await preparedQuery(named.manager, SQL, [1]);
    const [second] = await preparedQuery(named.manager, SQL, [41]);
    await preparedQuery(named.manager, 'SELECT $1::int - 1 AS previous', [1]);
    expect([first?.next, second?.next]).toEqual([2, 42]);
    const names = sent.filter((s) => s.text !== '' && !/^\s*(SELECT 1|SHOW)/.test(s.text)).map((s) => s.name);
    expect(names).toHaveLength(3);
    expect(names[0]).toMatch(/^auth_[\w-]{22}$/);
    expect(names[1]).toBe(names[0]);
    expect(names[2]).not.toBe(names[0]);
  });

  it('is prepared once on the connection and then held by the server (pg_prepared_statements)', async () => {
    const held = await named.transaction(async (manager) => {
      await preparedQuery(manager, SQL, [1]);
      await preparedQuery(manager, SQL, [2]);
      return manager.query(`SELECT name, statement FROM pg_prepared_statements WHERE statement = $1`, [SQL]);
    });
    expect(held).toEqual([{ name: expect.stringMatching(/^auth_/), statement: SQL }]);
  });

  it('with preparedStatements false, sends the statement unnamed and the server holds none', async () => {
    const held = await unnamed.transaction(async (manager) => {
      const [row] = await preparedQuery(manager, SQL, [9]);
      expect(row?.next).toBe(10);
      return manager.query(`SELECT count(*)::int AS n FROM pg_prepared_statements`);
    });
    expect(held).toEqual([{ n: 0 }]);
    expect(sent.filter((s) => s.text === SQL).map((s) => s.name)).toEqual([undefined]);
  });

  it('answers 60 parallel calls on a pool of 3 correctly, each connection preparing it once', async () => {
    for (let round = 0; round < 5; round += 1) {
      sent.length = 0;
      const values = Array.from({ length: 60 }, (_, i) => round * 100 + i);
      const answers = await Promise.all(values.map((v) => preparedQuery(named.manager, SQL, [v])));
      expect(answers.map(([row]) => row?.next)).toEqual(values.map((v) => v + 1));
    }
    const perConnection = await Promise.all(
      Array.from({ length: 3 }, () =>
        named.transaction((manager) => manager.query(`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement = $1`, [SQL])),
      ),
    );
    for (const [row] of perConnection) expect((row as { n: number }).n).toBeLessThanOrEqual(1);
  });

  it('fails as manager.query fails (a QueryFailedError with the driver error), and the name works afterwards', async () => {
    const bad = 'SELECT 1 / $1::int AS q';
    const failure = await preparedQuery(named.manager, bad, [0]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(QueryFailedError);
    expect((failure as QueryFailedError & { driverError: { code?: string } }).driverError.code).toBe('22012'); // division_by_zero
    const [row] = await preparedQuery(named.manager, bad, [2]);
    expect(row?.q).toBe(0);
    const unparsable = await preparedQuery(named.manager, 'SELEC nonsense', []).catch((error: unknown) => error);
    expect(unparsable).toBeInstanceOf(QueryFailedError);
  });

  it('a first use inside an aborted transaction fails, and the statement still works on that connection afterwards', async () => {
    const text = `SELECT $1::int * 3 AS tripled, '${Date.now()}' AS fresh`; // never prepared on any connection yet
    const failure = await named
      .transaction(async (manager) => {
        await manager.query('SELECT 1 / 0').catch(() => undefined); // the transaction is now aborted
        await preparedQuery(manager, text, [1]);
      })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(QueryFailedError);
    expect((failure as Error).message).toMatch(/current transaction is aborted/);
    // Every connection of the pool of 3 (the aborted one among them) answers it now.
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => preparedQuery(named.manager, text, [i])));
    expect(answers.map(([row]) => row?.tripled)).toEqual(Array.from({ length: 12 }, (_, i) => i * 3));
  });

  it('serves the refresh path: rotation by compare-and-set through named statements, one winner of a parallel burst', async () => {
    const user = aUser();
    await named.transaction((manager) => new TypeOrmUserRepository(manager).add(user));
    for (let round = 0; round < 5; round += 1) {
      const session = aSession(user.id);
      await new TypeOrmSessionRepository(named.manager).add(session);
      const current = session.toState().refreshTokenHash;
      sent.length = 0;
      // Eight readers of the same current token race to rotate it: exactly one compare-and-set matches.
      const outcomes = await Promise.all(
        Array.from({ length: 8 }, async () => {
          const repository = new TypeOrmSessionRepository(named.manager);
          const found = await repository.findByRefreshTokenHash(current);
          if (!found) return false;
          // The mothers' sessions begin at T0: a rotation a minute later, while they are alive.
          const now = new Date(T0.getTime() + 60_000);
          rotated(found.session, now);
          return repository.saveIfCurrent(found.session, current, now);
        }),
      );
      expect(outcomes.filter(Boolean)).toHaveLength(1);
      const after = await new TypeOrmSessionRepository(named.manager).findByRefreshTokenHash(current);
      expect(after?.presented).toBe('previous');
      const hot = sent.filter((s) => /FROM sessions s LEFT JOIN users|rotated AS \(/.test(s.text));
      expect(hot.length).toBeGreaterThanOrEqual(16);
      expect(hot.every((s) => s.name?.startsWith('auth_'))).toBe(true);
    }
  });

  it('updateRows: the changed columns of one row, named when allowed; an expression inlined, json serialised, 0 for no row', async () => {
    for (const dataSource of [named, unnamed]) {
      const user = aUser();
      await dataSource.transaction((manager) => new TypeOrmUserRepository(manager).add(user));
      sent.length = 0;
      const data = { changed_at: '2026-11-30T00:00:00.000Z', note: "it's" };
      const updated = await updateRows(dataSource.manager, UserCredentialRecord, { userId: user.id, type: 'password' }, {
        secret: 'h2',
        data,
        updatedAt: () => "'2026-11-30T01:02:03Z'::timestamptz",
      });
      expect(updated).toBe(1);
      const [row] = await dataSource.query(`SELECT secret, data, updated_at FROM user_credentials WHERE user_id = $1 AND type = 'password'`, [user.id]);
      expect(row).toEqual({ secret: 'h2', data, updated_at: new Date('2026-11-30T01:02:03Z') });
      await expect(updateRows(dataSource.manager, UserCredentialRecord, { userId: user.id, type: 'totp' }, { secret: 'x' })).resolves.toBe(0);
      const updates = sent.filter((s) => s.text.startsWith('UPDATE "user_credentials"'));
      expect(updates).toHaveLength(2);
      expect(updates[0]?.text).toContain(`"updated_at" = '2026-11-30T01:02:03Z'::timestamptz`);
      expect(updates.map((s) => s.name?.startsWith('auth_') ?? false)).toEqual(dataSource === named ? [true, true] : [false, false]);
      if (dataSource === named) {
        // Another set of columns is another statement (its own name); the same set, the same one.
        expect(updates[1]?.name).not.toBe(updates[0]?.name);
        await updateRows(dataSource.manager, UserCredentialRecord, { userId: user.id, type: 'password' }, { secret: 'h3', data, updatedAt: () => "'2026-11-30T01:02:03Z'::timestamptz" });
        expect(sent.filter((s) => s.text.startsWith('UPDATE "user_credentials"'))[2]?.name).toBe(updates[0]?.name);
      }
    }
  });

  it('updateRows: one expression set on two different columns is two statements (the shape names the column)', async () => {
    const user = aUser();
    await unnamed.transaction((manager) => new TypeOrmUserRepository(manager).add(user));
    const when = () => "'2031-01-01T00:00:00Z'::timestamptz";
    await updateRows(unnamed.manager, UserCredentialRecord, { userId: user.id, type: 'password' }, { updatedAt: when });
    await updateRows(unnamed.manager, UserCredentialRecord, { userId: user.id, type: 'password' }, { createdAt: when });
    const [row] = await unnamed.query(`SELECT created_at, updated_at FROM user_credentials WHERE user_id = $1 AND type = 'password'`, [user.id]);
    expect(row).toEqual({ created_at: new Date('2031-01-01T00:00:00Z'), updated_at: new Date('2031-01-01T00:00:00Z') });
  });
});
