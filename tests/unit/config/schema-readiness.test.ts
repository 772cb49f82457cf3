import type { DataSource } from 'typeorm';
import { pendingMigrationsWatch } from '@config/health';

/**
 * Readiness's view of the schema (an outside review, 2026-12-05: new code on a database behind it was ready): the
 * migrations table is read at most once per interval, concurrent probes share one read, a failed read keeps the last
 * answer, and once nothing is pending it is never read again.
 */
describe('pendingMigrationsWatch', () => {
  const fakeDatabase = () => {
    const state = { applied: ['A'], reads: 0, fail: false };
    const dataSource = {
      migrations: [{ name: 'A' }, { name: 'B' }, { name: 'C' }],
      query: async (sql: string) => {
        if (state.fail) throw new Error('connection terminated');
        if (sql.includes('to_regclass')) {
          state.reads += 1;
          return [{ present: true }];
        }
        return state.applied.map((name) => ({ name }));
      },
    } as unknown as DataSource;
    return { state, dataSource };
  };
  let now = 1_000_000;
  beforeEach(() => {
    jest.spyOn(Date, 'now').mockImplementation(() => now);
  });
  afterEach(() => jest.restoreAllMocks());

  it('re-reads at most once per interval, shares a read in flight, and stops reading once none is pending', async () => {
    const { state, dataSource } = fakeDatabase();
    const migrated = jest.fn();
    const pending = pendingMigrationsWatch(dataSource, 5_000, migrated);
    await expect(Promise.all([pending(), pending(), pending()])).resolves.toEqual([2, 2, 2]);
    expect(state.reads).toBe(1);
    state.applied = ['A', 'B'];
    now += 4_999;
    await expect(pending()).resolves.toBe(2);
    expect(state.reads).toBe(1);
    now += 1;
    await expect(pending()).resolves.toBe(1);
    expect(state.reads).toBe(2);
    // A failed read keeps the last answer (the database's own check reports the outage).
    state.fail = true;
    now += 5_000;
    await expect(pending()).resolves.toBe(1);
    state.fail = false;
    state.applied = ['A', 'B', 'C', 'FutureThing'];
    now += 5_000;
    expect(migrated).not.toHaveBeenCalled();
    // Migrations of a newer version do not count.
    await expect(pending()).resolves.toBe(0);
    expect(migrated).toHaveBeenCalledTimes(1);
    const reads = state.reads;
    now += 60_000;
    await expect(pending()).resolves.toBe(0);
    expect(state.reads).toBe(reads);
  });

  it('a first read that fails does not call the schema behind', async () => {
    const { state, dataSource } = fakeDatabase();
    state.fail = true;
    const pending = pendingMigrationsWatch(dataSource, 5_000);
    await expect(pending()).resolves.toBe(0);
    state.fail = false;
    now += 5_000;
    await expect(pending()).resolves.toBe(2);
  });
});
