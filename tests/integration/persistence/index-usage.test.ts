import { COUNT_BY_STATE_SQL } from '@infrastructure/persistence/typeorm/typeorm-email-outbox';
import { CLAIM_OUTBOX_SQL } from '@infrastructure/persistence/typeorm/typeorm-outbox-store';
import { LOCK_ACTIVE_ADMINS_SQL } from '@infrastructure/persistence/typeorm/typeorm-user.repository';
import { SQL_ADAPTERS, type Store } from '../../support/persistence';

/**
 * Queries that must be answerable from an index at 10^6 users and 10^7 audit rows (outside review, 2026-12-02):
 * the plan is read with sequential scans priced out, so a missing index shows as a Seq Scan whatever the table size.
 */
describe.each(SQL_ADAPTERS)('index usage on $name', (adapter) => {
  let store: Store;
  beforeAll(async () => {
    store = await adapter.start();
  });
  afterAll(async () => store?.stop());

  const plan = async (sql: string, params: unknown[] = []): Promise<string> =>
    store.dataSource!.transaction(async (manager) => {
      await manager.query('SET LOCAL enable_seqscan = off');
      const rows: { 'QUERY PLAN': string }[] = await manager.query(`EXPLAIN ${sql}`, params);
      return rows.map((row) => row['QUERY PLAN']).join('\n');
    });

  it('every admin change locks the active admins through their partial index, not a scan of the users', async () => {
    const text = await plan(LOCK_ACTIVE_ADMINS_SQL);
    expect(text).toContain('users_active_admins_idx');
    expect(text).not.toMatch(/Seq Scan on users/);
  });

  it("the relay's claim reads the pending rows in its order (next_attempt_at, created_at, seq) from their index, no sort", async () => {
    const text = await plan(CLAIM_OUTBOX_SQL, [200, new Date()]);
    expect(text).toContain('outbox_events_unpublished_idx');
    expect(text).not.toMatch(/Sort|Seq Scan on outbox_events/);
  });

  it('the audit log filtered by type is read in keyset order from its index', async () => {
    const text = await plan(
      `SELECT id FROM audit_events WHERE type = ANY($1) AND (occurred_at, id) < ($2, $3::uuid) ORDER BY occurred_at DESC, id DESC LIMIT 51`,
      [['client.created'], new Date(), '00000000-0000-4000-8000-000000000000'],
    );
    expect(text).toContain('audit_events_type_occurred_at_id_idx');
  });

  it('the email queue gauge counts queued and failed rows from their partial indexes, never reading the sent mail', async () => {
    const text = await plan(COUNT_BY_STATE_SQL);
    expect(text).toContain('email_outbox_due_idx');
    expect(text).toContain('email_outbox_failed_at_idx');
    expect(text).not.toMatch(/Seq Scan on email_outbox/);
  });
});
