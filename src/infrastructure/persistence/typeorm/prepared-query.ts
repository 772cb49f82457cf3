import { createHash } from 'node:crypto';
import { type DataSource, type EntityManager, QueryFailedError } from 'typeorm';

/**
 * Named (server-side) prepared statements for the hot statements: the refresh path's read and compare-and-set,
 * the user reads and the user lock, and the row writes of raw-insert.ts, raw-update.ts and the held appends (every
 * login and registration). Each text is a fixed shape from the code (a table and its changed columns, a row count of
 * at most MAX_PREPARED_ROWS), so a connection holds tens of them, not more (MAX_NAMES guards the cache; a statement
 * stays prepared on its connection until the connection ends).
 * `manager.query` sends each statement unnamed: PostgreSQL parses and plans it on every call,
 * which for the refresh read (a join, an OR of two indexes, a JSON subquery) was two thirds of its server time
 * (parse 0.28 ms, plan 0.52 ms, execute 0.27 ms; README, SQL per request). A named statement is parsed once per
 * connection and its plan cached by PostgreSQL (a generic plan once it is no worse than the custom ones).
 *
 * Off (every statement unnamed, as before) when the data source was created with `preparedStatements: false`:
 * DATABASE_PREPARED_STATEMENTS=false, needed behind PgBouncer before 1.21 in transaction mode, where a
 * statement prepared on one server connection is missing on the next; and for the embedded PGlite.
 * A named statement goes to pg directly, past TypeORM's query logger (off in the service: `logging: false`).
 * Statements given here must name their columns (never `SELECT *`): PostgreSQL re-plans a prepared statement after a
 * migration changes a table, but refuses one whose result columns would change ("cached plan must not change
 * result type"), so a column added by a rolling migration must not reach a prepared statement's output.
 */
const enabled = new WeakMap<DataSource, boolean>();

export function setPreparedStatements(dataSource: DataSource, on: boolean): void {
  enabled.set(dataSource, on);
}

/** A statement's name: from its text (pg refuses one name for two texts), cached per text, bounded. */
const names = new Map<string, string>();
const MAX_NAMES = 500;

function nameOf(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `auth_${createHash('sha256').update(text).digest('base64url').slice(0, 22)}`;
    if (names.size >= MAX_NAMES) names.clear(); // texts come from code: more than a few dozen is a bug, not load
    names.set(text, name);
  }
  return name;
}

/** EntityManagers that send no statement of their own: a guarded write's (guarded-write.ts). */
const refusing = new WeakSet<EntityManager>();

export function refuseQueries(manager: EntityManager): void {
  refusing.add(manager);
}

interface PgClient {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: Record<string, unknown>[] }>;
}

/**
 * `manager.query(text, params)`, as a named prepared statement when the data source allows it: on the
 * transaction's connection inside a unit of work, else on a connection of the pool for this statement alone.
 * Returns the rows; a failure is a QueryFailedError, as from `manager.query`. `prepare: false`: unnamed whatever the
 * data source allows (a text that varies with its data, such as a long multi-row insert: raw-insert.ts).
 */
export async function preparedQuery(manager: EntityManager, text: string, params: unknown[], prepare = true): Promise<Record<string, unknown>[]> {
  if (refusing.has(manager)) throw new Error('a guarded write sends one statement at its end: its work may not read or write through repos');
  const runner = manager.queryRunner ?? manager.connection.createQueryRunner();
  const own = manager.queryRunner === undefined;
  try {
    // Unnamed: the rows as such, whatever the command (a plain query() answers an UPDATE with [rows, count]).
    if (!prepare || enabled.get(manager.connection) !== true) return ((await runner.query(text, params, true)) as { records: Record<string, unknown>[] }).records;
    const client = (await runner.connect()) as PgClient;
    try {
      return (await client.query({ name: nameOf(text), text, values: params })).rows;
    } catch (error) {
      throw new QueryFailedError(text, params, error instanceof Error ? error : new Error(String(error)));
    }
  } finally {
    if (own) await runner.release();
  }
}
