import { runMigrations } from '@infrastructure/persistence/typeorm/data-source';
import { migrations } from '../../../migrations';
import { SQL_ADAPTERS, type Store } from '../../support/persistence';

const TABLES = ['users', 'user_credentials', 'sessions', 'refresh_token_history', 'one_time_tokens', 'signing_keys', 'outbox_events', 'email_outbox', 'audit_events', 'processed_events', 'clients'];

describe.each(SQL_ADAPTERS)('migrations on $name', (adapter) => {
  let db: Store & { dataSource: NonNullable<Store['dataSource']> };

  beforeAll(async () => {
    const store = await adapter.start(); // migrated
    db = { ...store, dataSource: store.dataSource! };
  });
  afterAll(async () => {
    await db?.stop();
  });

  const pendingSchemaChanges = async (): Promise<string[]> =>
    (await db.dataSource.driver.createSchemaBuilder().log()).upQueries.map((q) => q.query);

  const existingTables = async (): Promise<string[]> => {
    const rows: { name: string | null }[] = await db.dataSource.query(
      `SELECT to_regclass(name)::text AS name FROM unnest($1::text[]) AS name`,
      [TABLES],
    );
    return rows.flatMap((row) => (row.name ? [row.name] : []));
  };

  it('create exactly the schema the ORM records describe (names of constraints and indexes included)', async () => {
    await expect(existingTables()).resolves.toEqual(TABLES);
    await expect(pendingSchemaChanges()).resolves.toEqual([]);
  });

  it('are idempotent, can be reverted and re-applied', async () => {
    await expect(runMigrations(db.dataSource)).resolves.toEqual([]);
    for (let i = 0; i < migrations.length; i += 1) await db.dataSource.undoLastMigration({ transaction: 'all' });
    await expect(existingTables()).resolves.toEqual([]);
    const applied = await runMigrations(db.dataSource);
    expect(applied.map((m) => m.name)).toEqual(migrations.map((m) => new m().name));
    await expect(pendingSchemaChanges()).resolves.toEqual([]);
  });

  it('leave the token TTL of signing keys from before it was recorded unknown (NULL: kept for the longest TTL)', async () => {
    expect(new migrations[migrations.length - 1]!().name).toBe('SigningKeyTokenTtl1764560000000');
    await db.dataSource.undoLastMigration({ transaction: 'all' });
    await db.dataSource.query(
      `INSERT INTO signing_keys (kid, alg, public_jwk, sealed_private_key, status, created_at) VALUES ('kid-old', 'EdDSA', '{}', 's', 'active', now())`,
    );
    await runMigrations(db.dataSource);
    await expect(db.dataSource.query(`SELECT kid, max_token_ttl_seconds AS ttl FROM signing_keys`)).resolves.toEqual([{ kid: 'kid-old', ttl: null }]);
    await db.dataSource.query(`DELETE FROM signing_keys`);
  });

  it('build the trigram search indexes where pg_trgm is installed, wherever its schema is (here: not on the search path)', async () => {
    const where: { schema: string | null; onPath: boolean }[] = await db.dataSource.query(
      `SELECT n.nspname AS schema, n.nspname = ANY(current_schemas(false)) AS "onPath"
         FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'`,
    );
    const indexes: { indexname: string; indexdef: string }[] = await db.dataSource.query(
      `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname LIKE 'users_%search_trgm_idx' ORDER BY indexname`,
    );
    if (adapter.name === 'PostgreSQL server') {
      // tests/support/servers.ts installs it in public; each scratch schema's search_path names only itself.
      expect(where).toEqual([{ schema: 'public', onPath: false }]);
      expect(indexes.map((i) => i.indexname)).toEqual(['users_inactive_search_trgm_idx', 'users_search_trgm_idx']);
      for (const { indexdef } of indexes) expect(indexdef).toContain('public.gin_trgm_ops');
      // The second one holds the users who are not active only (status-filtered searches).
      expect(indexes[0]!.indexdef).toMatch(/WHERE \(status <> 'active'::text\)$/);
    } else {
      // PGlite ships without the contrib module: no extension, no index, the search scans (README).
      expect([where, indexes]).toEqual([[], []]);
    }
  });
});
