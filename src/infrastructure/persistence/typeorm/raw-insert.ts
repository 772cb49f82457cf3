import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { preparedQuery } from './prepared-query';

/** Rows for one table, all with the first row's properties. */
export interface RowBatch<T extends ObjectLiteral = ObjectLiteral> {
  target: EntityTarget<T>;
  rows: readonly Partial<T>[];
}

export interface Shape {
  table: string;
  columns: ColumnMetadata[];
}

/** Per entity and property list: the columns. Per list of (shape, row count): the statement's text. */
const shapes = new Map<string, Shape>();
const statements = new Map<string, string>();
/** The shapes are fixed by the code; the row counts vary (events per change, up to MAX_ROWS_PER_STATEMENT): a guard. */
const MAX_CACHED_STATEMENTS = 1000;

export function shapeOf(manager: EntityManager, target: EntityTarget<ObjectLiteral>, properties: string[]): { key: string; shape: Shape } {
  const metadata = manager.connection.getMetadata(target);
  const key = `${metadata.name}|${properties.join(',')}`;
  let shape = shapes.get(key);
  if (shape === undefined) {
    const columns = properties.map((property) => {
      const column = metadata.findColumnWithPropertyName(property);
      if (!column) throw new Error(`${metadata.tableName}: no column for property ${property}`);
      return column;
    });
    shape = { table: metadata.tableName, columns };
    shapes.set(key, shape);
  }
  return { key, shape };
}

function insertSql(shape: Shape, rowCount: number, offset: number): string {
  const width = shape.columns.length;
  const values = Array.from({ length: rowCount }, (_, r) => `(${shape.columns.map((_c, c) => `$${offset + r * width + c + 1}`).join(', ')})`);
  return `INSERT INTO "${shape.table}" (${shape.columns.map((c) => `"${c.databaseName}"`).join(', ')}) VALUES ${values.join(', ')}`;
}

export function pushParams(shape: Shape, rows: readonly ObjectLiteral[], params: unknown[]): void {
  for (const row of rows) {
    for (const column of shape.columns) {
      let value: unknown = (row as Record<string, unknown>)[column.propertyName];
      // An absent optional value is NULL (insert() would write the column's default: none of these has one).
      if (value === undefined && column.isNullable && column.default === undefined) value = null;
      if (value === undefined) throw new Error(`${shape.table}: ${column.propertyName} is missing from a row`);
      params.push((column.type === 'jsonb' || column.type === 'json') && value !== null ? JSON.stringify(value) : value);
    }
  }
}

/**
 * One statement for every batch: a plain multi-row `INSERT INTO table (columns) VALUES (...), ...` for one
 * table, or for several `WITH i1 AS (INSERT ...), i2 AS (INSERT ...) INSERT ...` (PostgreSQL runs every
 * data-modifying WITH to completion, in the one statement's snapshot). Batches of the same table and properties
 * become one multi-row INSERT, in the order given. Null when there is no row.
 */
export function insertStatement(manager: EntityManager, batches: readonly RowBatch[]): { sql: string; params: unknown[] } | null {
  const groups = new Map<string, { shape: Shape; rows: ObjectLiteral[] }>();
  for (const batch of batches) {
    const first = batch.rows[0];
    if (first === undefined) continue;
    const { key, shape } = shapeOf(manager, batch.target, Object.keys(first));
    const group = groups.get(key);
    if (group) group.rows.push(...batch.rows);
    else groups.set(key, { shape, rows: [...batch.rows] });
  }
  if (groups.size === 0) return null;
  const parts = [...groups].map(([key, group]) => ({ key: `${key}x${group.rows.length}`, ...group }));
  const statementKey = parts.map((part) => part.key).join(';');
  let sql = statements.get(statementKey);
  if (sql === undefined) {
    let offset = 0;
    const inserts = parts.map((part) => {
      const text = insertSql(part.shape, part.rows.length, offset);
      offset += part.shape.columns.length * part.rows.length;
      return text;
    });
    const last = inserts.pop()!;
    sql = inserts.length === 0 ? last : `WITH ${inserts.map((text, i) => `i${i + 1} AS (${text})`).join(', ')} ${last}`;
    if (statements.size >= MAX_CACHED_STATEMENTS) statements.clear();
    statements.set(statementKey, sql);
  }
  const params: unknown[] = [];
  for (const part of parts) pushParams(part.shape, part.rows, params);
  return { sql, params };
}

/**
 * At most this many rows go in one statement. A statement carries at most 65,535 parameters (the protocol's limit):
 * until stop 52 every held row went in one, and an account with more than about 8,190 live sessions could no longer
 * be secured (a reset, a global logout, a deletion or a suspension revokes each session with an event: 8 parameters a
 * row; PostgreSQL refused the statement, 08P01, and the whole change rolled back; a review of the account lifecycle).
 * 500 rows of the widest table here (audit entries, 11 columns) are 5,500 parameters.
 */
export const MAX_ROWS_PER_STATEMENT = 500;

/**
 * Statements of at most this many rows are prepared by name (prepared-query.ts); longer ones go unnamed. A named
 * statement stays on its connection for good, and the text holds the row count: until stop 52 each different number
 * of sessions revoked at once left one more (a review saw 300 logouts take one backend from 4.4 MB to 87 MB). The
 * hot paths write one to a few rows; a larger batch is rare and its parse is small beside its rows.
 */
export const MAX_PREPARED_ROWS = 16;

export interface InsertStatement {
  sql: string;
  params: unknown[];
  /** Whether to prepare it by name (a few rows: a fixed shape that recurs), see MAX_PREPARED_ROWS. */
  prepare: boolean;
}

/**
 * The statements that write `batches`, in order: one (insertStatement) when they hold at most
 * MAX_ROWS_PER_STATEMENT rows, else, for each run of consecutive batches of one table, one per at most that many rows
 * (a statement's rows need not share their properties: insertStatement groups them by property list).
 */
export function insertStatements(manager: EntityManager, batches: readonly RowBatch[]): InsertStatement[] {
  const total = batches.reduce((sum, batch) => sum + batch.rows.length, 0);
  if (total <= MAX_ROWS_PER_STATEMENT) {
    const statement = insertStatement(manager, batches);
    return statement ? [{ ...statement, prepare: total <= MAX_PREPARED_ROWS }] : [];
  }
  // One table's batches (one row each, mostly: an audit entry, an event) run together, as in insertStatement.
  const runs: RowBatch[] = [];
  for (const batch of batches) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last.target === batch.target) (last.rows as Partial<ObjectLiteral>[]).push(...batch.rows);
    else runs.push({ target: batch.target, rows: [...batch.rows] });
  }
  const statements: InsertStatement[] = [];
  for (const run of runs) {
    for (let start = 0; start < run.rows.length; start += MAX_ROWS_PER_STATEMENT) {
      const rows = run.rows.slice(start, start + MAX_ROWS_PER_STATEMENT);
      const statement = insertStatement(manager, [{ target: run.target, rows }]);
      if (statement) statements.push({ ...statement, prepare: rows.length <= MAX_PREPARED_ROWS });
    }
  }
  return statements;
}

/**
 * A plain multi-row `INSERT INTO table (columns) VALUES (...), ...` of the given properties, built from TypeORM's
 * metadata and cached per entity, property list and row count. For the rows every login and registration writes
 * (session, outbox event, audit entry): TypeORM's insert() builds its query anew each call and adds a RETURNING
 * of the defaulted columns, about as much CPU as the statement itself (see raw-select.ts). The rows share the
 * first row's properties (an absent nullable one is NULL); columns no row names take their defaults. json/jsonb values are serialised here (pg would
 * write a JS array as a PostgreSQL array); errors are the same QueryFailedError as insert()'s.
 */
export async function insertRows<T extends ObjectLiteral>(manager: EntityManager, target: EntityTarget<T>, rows: readonly Partial<T>[]): Promise<void> {
  for (const statement of insertStatements(manager, [{ target, rows } as RowBatch])) await preparedQuery(manager, statement.sql, statement.params, statement.prepare);
}
