import type { PurgeCounts } from '@infrastructure/persistence/typeorm/purge-expired';
import type { DataSource } from 'typeorm';
import { SQL_ADAPTERS, type Store } from '../../support/persistence';
import { describeWhen } from '../../support/servers';

const DAY = 86_400_000;
const EXPIRED_SESSIONS = 18_000;
const REVOKED_SESSIONS = 2_000;
const DEAD_TOKENS = 5_000;
const OLD_PROCESSED = 5_000;
/** Retired refresh-token hashes of sessions past their end (two for each of the first 4,000). */
const OLD_HISTORY = 8_000;
const LIVE = 40;
const BATCH = 3_000;
/** Seeding 30,000 rows and purging them takes seconds; a loaded machine takes longer (not a speed check). */
const SLOW = 120_000;

/**
 * Seeds, by bulk SQL, 20,000 sessions past their end (18,000 expired over a week ago, 2,000 revoked over a week
 * ago), 5,000 finished one-time tokens, 5,000 old processed-event records, and LIVE rows of each that must stay
 * (live sessions, sessions revoked yesterday, unexpired tokens, recent records). Returns the live sessions' ids.
 */
async function seed(dataSource: DataSource, now: Date, tag: string): Promise<string[]> {
  const at = (offsetMs: number) => new Date(now.getTime() + offsetMs);
  await dataSource.query(
    `INSERT INTO users (id, email, status, email_verified, roles, created_at, updated_at)
     SELECT gen_random_uuid(), '${tag}-' || g || '@example.com', 'active', true, ARRAY['user'], $1, $1 FROM generate_series(1, 5) g`,
    [at(-30 * DAY)],
  );
  const users: { id: string }[] = await dataSource.query(`SELECT id FROM users WHERE email LIKE '${tag}-%' ORDER BY email`);
  const ids = users.map((u) => u.id);
  const sessions = (from: number, to: number, expires: Date, revoked: Date | null) =>
    dataSource.query(
      `INSERT INTO sessions (id, user_id, refresh_token_hash, sealed_refresh_token, amr, created_at, last_used_at, expires_at, absolute_expires_at, revoked_at)
       SELECT gen_random_uuid(), ($1::uuid[])[1 + g % 5], '${tag}-' || g, 'sealed', ARRAY['pwd'], $2, $2, $3, $3, $4 FROM generate_series($5::int, $6::int) g`,
      [ids, at(-40 * DAY), expires, revoked, from, to],
    );
  await sessions(1, EXPIRED_SESSIONS, at(-8 * DAY), null);
  await sessions(EXPIRED_SESSIONS + 1, EXPIRED_SESSIONS + REVOKED_SESSIONS, at(20 * DAY), at(-8 * DAY));
  const liveFrom = EXPIRED_SESSIONS + REVOKED_SESSIONS + 1;
  await sessions(liveFrom, liveFrom + LIVE - 1, at(DAY), null);
  // Revoked yesterday: kept a week so "this session was revoked" stays answerable.
  await sessions(liveFrom + LIVE, liveFrom + 2 * LIVE - 1, at(20 * DAY), at(-DAY));
  const tokens = (from: number, to: number, expires: Date, consumed: Date | null) =>
    dataSource.query(
      `INSERT INTO one_time_tokens (id, user_id, purpose, token_hash, created_at, expires_at, consumed_at)
       SELECT gen_random_uuid(), ($1::uuid[])[1 + g % 5], 'password_reset', '${tag}-' || g, $2, $3, $4 FROM generate_series($5::int, $6::int) g`,
      [ids, at(-2 * DAY), expires, consumed, from, to],
    );
  await tokens(1, DEAD_TOKENS / 2, at(-3_600_000), null);
  await tokens(DEAD_TOKENS / 2 + 1, DEAD_TOKENS, at(3_600_000), at(-60_000));
  await tokens(DEAD_TOKENS + 1, DEAD_TOKENS + LIVE, at(3_600_000), null);
  const processed = (from: number, to: number, when: Date) =>
    dataSource.query(
      `INSERT INTO processed_events (subscriber, event_id, processed_at) SELECT '${tag}', 'e' || g, $1 FROM generate_series($2::int, $3::int) g`,
      [when, from, to],
    );
  await processed(1, OLD_PROCESSED, at(-8 * DAY));
  await processed(OLD_PROCESSED + 1, OLD_PROCESSED + LIVE, at(-DAY));
  // Retired refresh-token hashes: two for each of the first 4,000 sessions past their end, two for each kept one.
  await dataSource.query(
    `INSERT INTO refresh_token_history (token_hash, session_id, retired_at)
     SELECT '${tag}-h' || n || '-' || s.refresh_token_hash, s.id, $1 FROM sessions s, generate_series(1, 2) n
      WHERE s.refresh_token_hash LIKE '${tag}-%'
        AND (substring(s.refresh_token_hash from '[0-9]+$')::int <= $2 OR (s.expires_at > $3 AND (s.revoked_at IS NULL OR s.revoked_at > $4)))`,
    [at(-9 * DAY), OLD_HISTORY / 2, now, at(-2 * DAY)],
  );
  const live: { id: string }[] = await dataSource.query(`SELECT id FROM sessions WHERE refresh_token_hash LIKE '${tag}-%' AND expires_at > $1 AND revoked_at IS NULL`, [now]);
  return live.map((s) => s.id);
}

async function remaining(dataSource: DataSource, tag: string) {
  const [row] = (await dataSource.query(
    `SELECT (SELECT count(*)::int FROM sessions WHERE refresh_token_hash LIKE '${tag}-%') AS sessions,
            (SELECT count(*)::int FROM one_time_tokens WHERE token_hash LIKE '${tag}-%') AS tokens,
            (SELECT count(*)::int FROM processed_events WHERE subscriber = '${tag}') AS processed,
            (SELECT count(*)::int FROM refresh_token_history WHERE token_hash LIKE '${tag}-h%') AS history`,
  )) as { sessions: number; tokens: number; processed: number; history: number }[];
  return row;
}

describe.each(SQL_ADAPTERS)('purge-expired in batches on $name', (adapter) => {
  let store: Store;
  beforeAll(async () => {
    store = await adapter.start();
  }, SLOW);
  afterAll(async () => store?.stop());

  it('deletes every row past its end in batches of the given size and leaves the live ones', async () => {
    const now = new Date();
    await seed(store.dataSource!, now, 'batches');
    const batches: Partial<Record<keyof PurgeCounts, number[]>> = {};
    const counts = await store.purge!(now, {
      batchSize: BATCH,
      inBatch: async (table, deleted) => {
        (batches[table] ??= []).push(deleted);
      },
    });
    expect(counts).toMatchObject({ refreshTokenHistory: OLD_HISTORY, sessions: EXPIRED_SESSIONS + REVOKED_SESSIONS, oneTimeTokens: DEAD_TOKENS, processedEvents: OLD_PROCESSED });
    // The sessions' retired hashes first, in batches of their own (until stop 60, with their session, in its batch).
    expect(batches.refreshTokenHistory).toEqual([3000, 3000, 2000]);
    // 20,000 rows in batches of 3,000: six full ones and the last with 2,000 (fewer than the size: done).
    expect(batches.sessions).toEqual([3000, 3000, 3000, 3000, 3000, 3000, 2000]);
    expect(batches.oneTimeTokens).toEqual([3000, 2000]);
    expect(batches.processedEvents).toEqual([3000, 2000]);
    expect(await remaining(store.dataSource!, 'batches')).toEqual({ sessions: 2 * LIVE, tokens: LIVE, processed: LIVE, history: 4 * LIVE });
    await expect(store.purge!(now, { batchSize: BATCH })).resolves.toMatchObject({ refreshTokenHistory: 0, sessions: 0, oneTimeTokens: 0, processedEvents: 0 });
  }, SLOW);

  it('keeps the audit trail for ever by default, and with AUDIT_RETENTION deletes the entries older than it, in batches', async () => {
    const now = new Date();
    const audit = (count: number, daysAgo: number) =>
      store.dataSource!.query(
        `INSERT INTO audit_events (id, occurred_at, type, outcome, reason) SELECT gen_random_uuid(), $1, 'login.failed', 'failure', 'audit-retention' FROM generate_series(1, $2::int)`,
        [new Date(now.getTime() - daysAgo * DAY), count],
      );
    await audit(7_000, 400);
    await audit(LIVE, 300);
    const left = async () => ((await store.dataSource!.query(`SELECT count(*)::int AS n FROM audit_events WHERE reason = 'audit-retention'`)) as { n: number }[])[0]!.n;
    await expect(store.purge!(now, { batchSize: BATCH })).resolves.toMatchObject({ auditEvents: 0 });
    expect(await left()).toBe(7_000 + LIVE);
    const batches: number[] = [];
    const counts = await store.purge!(now, {
      batchSize: BATCH,
      auditRetentionSeconds: 365 * 86_400,
      inBatch: async (table, deleted) => void (table === 'auditEvents' && batches.push(deleted)),
    });
    expect(counts.auditEvents).toBe(7_000);
    expect(batches).toEqual([3000, 3000, 1000]);
    expect(await left()).toBe(LIVE);
  }, SLOW);

  /** The service's purge (PurgeSchedule): one table past the query deadline must not keep the tables after it unpurged. */
  it('with onTableError, a table whose batch fails is reported and left, and the tables after it are still purged', async () => {
    const now = new Date();
    await store.dataSource!.query(
      `INSERT INTO audit_events (id, occurred_at, type, outcome, reason) SELECT gen_random_uuid(), $1, 'login.failed', 'failure', 'after-a-failure' FROM generate_series(1, 50)`,
      [new Date(now.getTime() - 400 * DAY)],
    );
    const failed: string[] = [];
    const counts = await store.purge!(now, {
      auditRetentionSeconds: 365 * 86_400,
      inBatch: async (table) => {
        if (table === 'sessions') throw new Error('canceling statement due to statement timeout');
      },
      onTableError: (table, error) => failed.push(`${table}: ${(error as Error).message}`),
    });
    expect(failed).toEqual(['sessions: canceling statement due to statement timeout']);
    expect(counts.sessions).toBe(0);
    expect(counts.auditEvents).toBeGreaterThanOrEqual(50);
    const left = (await store.dataSource!.query(`SELECT count(*)::int AS n FROM audit_events WHERE reason = 'after-a-failure'`)) as { n: number }[];
    expect(left[0]!.n).toBe(0);
    // A failed history pass leaves the sessions too (their cascade would delete the history inside their batches).
    const seen: string[] = [];
    const afterHistory = await store.purge!(now, {
      inBatch: async (table) => {
        seen.push(table);
        if (table === 'refreshTokenHistory') throw new Error('canceling statement due to statement timeout');
      },
      onTableError: (table) => failed.push(table),
    });
    expect([failed.at(-1), afterHistory.sessions, seen.includes('sessions'), seen.includes('oneTimeTokens')]).toEqual(['refreshTokenHistory', 0, false, true]);
    // Without it, the failure ends the purge (the CLI's: its exit code says so).
    await expect(store.purge!(now, { inBatch: async (table) => { if (table === 'sessions') throw new Error('boom'); } })).rejects.toThrow('boom');
  }, SLOW);
});

/** Row locks need a second connection: PostgreSQL (PGlite runs one transaction at a time). */
const PARALLEL_ADAPTERS = SQL_ADAPTERS.filter((adapter) => adapter.parallel);

describeWhen(PARALLEL_ADAPTERS.length > 0, 'PostgreSQL (DATABASE_URL)')('purge-expired and concurrent requests', () => describe.each(PARALLEL_ADAPTERS)('on $name', (adapter) => {
  let store: Store;
  beforeAll(async () => {
    store = await adapter.start();
  }, SLOW);
  afterAll(async () => store?.stop());

  it('never waits on a row a request holds, and never locks a live row', async () => {
    const now = new Date();
    const dataSource = store.dataSource!;
    const live = await seed(dataSource, now, 'locks');
    // A request holds a live session (a refresh in progress) and an expired one (a refresh about to be refused).
    const holder = dataSource.createQueryRunner();
    await holder.connect();
    await holder.startTransaction();
    const [held] = (await holder.query(`SELECT id FROM sessions WHERE refresh_token_hash = 'locks-1' FOR UPDATE`)) as { id: string }[];
    await holder.query(`SELECT id FROM sessions WHERE id = $1 FOR UPDATE`, [live[0]]);

    const probed: string[] = [];
    let guard: NodeJS.Timeout | undefined;
    try {
      const purge = store.purge!(now, {
        batchSize: BATCH,
        inBatch: async (table) => {
          if (table !== 'sessions') return;
          // Inside a batch's transaction, another request locks and updates every other live session at once.
          const probe = dataSource.createQueryRunner();
          await probe.connect();
          try {
            await probe.startTransaction();
            const locked = (await probe.query(`SELECT id FROM sessions WHERE id = ANY($1) FOR UPDATE NOWAIT`, [live.slice(1)])) as unknown[];
            await probe.query(`UPDATE sessions SET last_used_at = $2 WHERE id = ANY($1)`, [live.slice(1), now]);
            await probe.commitTransaction();
            probed.push(`${locked.length}`);
          } finally {
            await probe.release();
          }
        },
      });
      const stalled = new Promise<never>((_, reject) => {
        guard = setTimeout(() => reject(new Error('purge waited for the held rows')), 60_000);
      });
      const counts = await Promise.race([purge, stalled]);
      // Everything past its end but the held row, which is left for the next run.
      expect(counts.sessions).toBe(EXPIRED_SESSIONS + REVOKED_SESSIONS - 1);
      expect(probed).toEqual(Array.from({ length: 7 }, () => `${LIVE - 1}`));
    } finally {
      clearTimeout(guard);
      await holder.commitTransaction();
      await holder.release();
    }
    const [still] = (await dataSource.query(`SELECT count(*)::int AS n FROM sessions WHERE id = $1`, [held!.id])) as { n: number }[];
    expect(still!.n).toBe(1);
    await expect(store.purge!(now, { batchSize: BATCH })).resolves.toMatchObject({ sessions: 1 });
    expect(await remaining(dataSource, 'locks')).toEqual({ sessions: 2 * LIVE, tokens: LIVE, processed: LIVE, history: 4 * LIVE });
  }, SLOW);
}));
