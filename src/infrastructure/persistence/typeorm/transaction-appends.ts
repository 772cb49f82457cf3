import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import { holdGuarded } from './guarded-write';
import { preparedQuery } from './prepared-query';
import { insertRows, insertStatements, type RowBatch } from './raw-insert';

/**
 * Rows a unit of work appends and never reads back (outbox events, audit entries), held from the writer's call
 * until the work is done, then written in one statement (for up to 500 rows) just before the COMMIT: one round trip where a login or
 * a registration made two or three. Nothing is lost by the wait: no code reads these tables inside the
 * transaction that writes them, no foreign key points from them, and a failing append still fails the
 * transaction (the flush runs inside it). Outside a unit of work (single statements, tests) rows go at once.
 */
const held = new WeakMap<EntityManager, RowBatch[]>();

/** The unit of work: from now on, appends through `manager` wait for flushAppends. */
export function holdAppends(manager: EntityManager): void {
  held.set(manager, []);
}

export async function appendRows<T extends ObjectLiteral>(manager: EntityManager, target: EntityTarget<T>, rows: readonly Partial<T>[]): Promise<void> {
  if (holdGuarded(manager, { target, rows } as RowBatch)) return;
  const batches = held.get(manager);
  if (batches === undefined) return insertRows(manager, target, rows);
  if (rows.length > 0) batches.push({ target, rows } as RowBatch);
}

/**
 * Writes what was held, in one statement (several, in order, past MAX_ROWS_PER_STATEMENT rows: raw-insert.ts), and
 * goes on holding (the work may append again before COMMIT).
 */
export async function flushAppends(manager: EntityManager): Promise<void> {
  const batches = held.get(manager);
  if (batches === undefined || batches.length === 0) return;
  held.set(manager, []);
  for (const statement of insertStatements(manager, batches)) await preparedQuery(manager, statement.sql, statement.params, statement.prepare);
}

/** The transaction is over (committed after a flush, or rolled back): nothing more is held for it. */
export function releaseAppends(manager: EntityManager): void {
  held.delete(manager);
}
