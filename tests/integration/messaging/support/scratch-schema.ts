import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import type { DomainEvent } from '@domain/shared/domain-event';
import { createDataSource, runMigrations } from '@infrastructure/persistence/typeorm/data-source';
import { TypeOrmOutboxWriter } from '@infrastructure/persistence/typeorm/outbox-writer';
import { REAL_DATABASE_URL } from '../../../support/postgres';

/**
 * A throw-away schema on the real PostgreSQL, migrated; `url` reaches it, so that several relays (or a child
 * process) can open their own connections to one database.
 */
export interface ScratchSchema {
  url: string;
  open(poolSize?: number): Promise<DataSource>;
  drop(): Promise<void>;
}

export async function createScratchSchema(): Promise<ScratchSchema> {
  const schema = `msg_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: REAL_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = new URL(REAL_DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const opened: DataSource[] = [];
  const open = async (poolSize = 4) => {
    const dataSource = createDataSource({ url: url.toString(), poolSize });
    await dataSource.initialize();
    opened.push(dataSource);
    return dataSource;
  };
  await runMigrations(await open(1));
  return {
    url: url.toString(),
    open,
    async drop() {
      for (const dataSource of opened) if (dataSource.isInitialized) await dataSource.destroy();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    },
  };
}

let counter = 0;

/** Commits `count` events to the outbox in one transaction, as a use case would; returns their ids. */
export async function commitEvents(dataSource: DataSource, count: number, type = 'auth.user.updated'): Promise<string[]> {
  const events: DomainEvent[] = Array.from({ length: count }, () => {
    counter += 1;
    return { type, subject: `user-${counter}`, occurredAt: new Date(), data: { user_id: `user-${counter}`, n: counter } };
  });
  return dataSource.transaction(async (manager) => {
    await new TypeOrmOutboxWriter(manager).write(events);
    const rows: { id: string }[] = await manager.query(
      `SELECT id FROM outbox_events WHERE subject = ANY($1::text[]) ORDER BY created_at`,
      [events.map((e) => e.subject)],
    );
    return rows.map((r) => r.id);
  });
}

export async function pendingCount(dataSource: DataSource): Promise<number> {
  const rows: { n: string }[] = await dataSource.query(`SELECT count(*) AS n FROM outbox_events WHERE published_at IS NULL`);
  return Number(rows[0]!.n);
}
