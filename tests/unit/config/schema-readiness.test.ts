import type { DataSource } from 'typeorm';
import { healthChecks, pendingMigrationsWatch, rememberingHealthProbe } from '@config/health';
import type { Infrastructure } from '@config/infrastructure';

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
  // The interval runs on the monotonic clock; the wall clock stands still (as one stepped back does, for a while):
  // when the watch read it, a step back of X held the cached "behind" answer X longer (a review of clocks, stop 65).
  let now = 1_000_000;
  beforeEach(() => {
    jest.spyOn(performance, 'now').mockImplementation(() => now);
    const wall = Date.UTC(2026, 0, 1);
    jest.spyOn(Date, 'now').mockImplementation(() => wall);
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

/**
 * Stop 55: the readiness checks' 2-s deadlines kept the process alive. Every container starts a check at once, the
 * CLI's included: a command run in process that finished while that check's query was still unanswered (its
 * database closed under it) left the timer pending, so the jest worker lived up to 2 s longer and jest ended it by
 * force ("failed to exit gracefully"; tests/support/leak-environment.cjs found the timers). The CLI binary exits
 * explicitly and was not held. A deadline must bound the check, not hold the process: the timers are unref'd.
 */
describe('the readiness checks do not keep the process alive while a dependency does not answer', () => {
  const refTimers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
  const never = <T>() => new Promise<T>(() => undefined);

  it('healthChecks: a database query and a cache status that never answer start no timer that holds the process', () => {
    const infra = { dataSource: { query: never }, cache: { status: never }, events: { broker: () => 'up' } } as unknown as Infrastructure;
    const before = refTimers();
    void healthChecks(infra);
    expect(refTimers() - before).toBe(0);
  });

  it('pendingMigrationsWatch: a schema read that never answers starts no timer that holds the process', () => {
    const dataSource = { migrations: [{ name: 'A' }], query: never } as unknown as DataSource;
    const before = refTimers();
    void pendingMigrationsWatch(dataSource, 5_000)();
    expect(refTimers() - before).toBe(0);
  });
});

/**
 * A review of stop 60: /health/ready takes no credentials and no rate limit, and each check took a connection of the
 * serving pool (`SELECT 1`) and a Redis write: a flood of probes ran one per request. Now probes arriving while a
 * check runs share it.
 */
describe('rememberingHealthProbe: one readiness check at a time', () => {
  it('20 probes at once, 5 rounds: one database check per round, each probe answered with its result', async () => {
    let pings = 0;
    let answer: () => void = () => undefined;
    const query = (sql: string) => {
      if (sql !== 'SELECT 1') return Promise.resolve([]);
      pings += 1;
      return new Promise((resolve) => (answer = () => resolve([{ '?column?': 1 }])));
    };
    const infra = { dataSource: { migrations: [], query }, cache: { status: async () => 'up' }, events: { broker: () => 'up' } } as unknown as Infrastructure;
    const probe = rememberingHealthProbe(infra);
    answer(); // the check every probe starts with, at once
    await new Promise((resolve) => setImmediate(resolve));
    for (let round = 0; round < 5; round += 1) {
      const before = pings;
      const probes = Promise.all(Array.from({ length: 20 }, () => probe.check()));
      await new Promise((resolve) => setImmediate(resolve));
      expect(pings - before).toBe(1);
      answer();
      const results = await probes;
      expect(results).toEqual(Array(20).fill({ database: 'up', cache: 'up', broker: 'up' }));
      expect(probe.lastKnown()).toEqual({ database: 'up', cache: 'up', broker: 'up' });
    }
  });
});
