import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { EntityMetadata } from 'typeorm/metadata/EntityMetadata';
import { preparedQuery } from './prepared-query';

/** Per entity, key properties and set properties (with the expressions inlined): the statement's text. */
const statements = new Map<string, string>();
/** The shapes are fixed by the code (the changed columns of a row vary a little): a guard, never reached. */
const MAX_CACHED_STATEMENTS = 1000;

/**
 * `UPDATE table SET "a" = $1, ... WHERE "k" = $n AND ... RETURNING 1`: the changed columns of one row, for the
 * writes a login, a logout or a refresh's locked path make (the user's bookkeeping, a session's revocation).
 * TypeORM's createQueryBuilder().update() builds its query anew on every call; this text is built once per
 * shape from TypeORM's metadata and sent as a named prepared statement (prepared-query.ts). A function value is a
 * SQL expression inlined in the text (`() => 'now()'`, as TypeORM's update() takes it; written in the code, never
 * from input), so it is part of the shape; json/jsonb values are serialised here, as TypeORM does. Returns the
 * number of rows updated; errors are TypeORM's QueryFailedError.
 */
export async function updateRows<T extends ObjectLiteral>(
  manager: EntityManager,
  target: EntityTarget<T>,
  where: Readonly<Record<string, unknown>>,
  changes: Readonly<Record<string, unknown>>,
): Promise<number> {
  const metadata = manager.connection.getMetadata(target);
  const setProperties = Object.keys(changes);
  const whereProperties = Object.keys(where);
  if (setProperties.length === 0) throw new Error(`${metadata.tableName}: an update needs a column to set`);
  if (whereProperties.length === 0) throw new Error(`${metadata.tableName}: an update needs a key`);
  const expressions = setProperties.map((property) => expressionOf(changes[property]));
  // The property and, for an expression, its text: two updates setting different columns to one expression (`now()`)
  // must not share a statement (an outside review, 2026-12-02: the key held the expression alone).
  const key = `${metadata.name}|${whereProperties.join(',')}|${setProperties.map((p, i) => (expressions[i] === null ? p : `${p}=${expressions[i]}`)).join(',')}`;
  const params: unknown[] = [];
  let sql = statements.get(key);
  const sets = setClause(metadata, changes, params);
  const conditions: string[] = [];
  for (const property of whereProperties) {
    params.push(where[property]);
    if (sql === undefined) conditions.push(`"${columnFor(metadata, property).databaseName}" = $${params.length}`);
  }
  if (sql === undefined) {
    sql = `UPDATE "${metadata.tableName}" SET ${sets.join(', ')} WHERE ${conditions.join(' AND ')} RETURNING 1 AS updated`;
    if (statements.size >= MAX_CACHED_STATEMENTS) statements.clear();
    statements.set(key, sql);
  }
  return (await preparedQuery(manager, sql, params)).length;
}

/** A function value is a SQL expression written in the code (`() => 'now()'`): its text; else null. */
function expressionOf(value: unknown): string | null {
  return typeof value === 'function' ? String((value as () => string)()) : null;
}

function columnFor(metadata: EntityMetadata, property: string) {
  const column = metadata.findColumnWithPropertyName(property);
  if (!column) throw new Error(`${metadata.tableName}: no column for property ${property}`);
  return column;
}

/**
 * `"column" = $n` (or `= expression`) for each changed property, its value pushed on `params` (json/jsonb
 * serialised, undefined as NULL): the SET list of an UPDATE, here and in guarded-write.ts.
 */
export function setClause(metadata: EntityMetadata, changes: Readonly<Record<string, unknown>>, params: unknown[]): string[] {
  return Object.keys(changes).map((property) => {
    const column = columnFor(metadata, property);
    const value = changes[property];
    const expression = expressionOf(value);
    if (expression !== null) return `"${column.databaseName}" = ${expression}`;
    params.push((column.type === 'jsonb' || column.type === 'json') && value !== null && value !== undefined ? JSON.stringify(value) : (value ?? null));
    return `"${column.databaseName}" = $${params.length}`;
  });
}
