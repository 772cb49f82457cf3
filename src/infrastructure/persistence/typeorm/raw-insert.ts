import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';

const statements = new Map<string, { sql: string; columns: ColumnMetadata[] }>();

/**
 * A plain multi-row `INSERT INTO table (columns) VALUES (...), ...` of the given properties, built from TypeORM's
 * metadata and cached per entity, property list and row count. For the rows every login and registration writes
 * (session, outbox event, audit entry): TypeORM's insert() builds its query anew each call and adds a RETURNING
 * of the defaulted columns, about as much CPU as the statement itself (see raw-select.ts). The rows share the
 * first row's properties (an absent nullable one is NULL); columns no row names take their defaults. json/jsonb values are serialised here (pg would
 * write a JS array as a PostgreSQL array); errors are the same QueryFailedError as insert()'s.
 */
export async function insertRows<T extends ObjectLiteral>(manager: EntityManager, target: EntityTarget<T>, rows: readonly Partial<T>[]): Promise<void> {
  const first = rows[0];
  if (first === undefined) return;
  const properties = Object.keys(first);
  const metadata = manager.connection.getMetadata(target);
  const key = `${metadata.name}|${properties.join(',')}|${rows.length}`;
  let statement = statements.get(key);
  if (statement === undefined) {
    const columns = properties.map((property) => {
      const column = metadata.findColumnWithPropertyName(property);
      if (!column) throw new Error(`${metadata.tableName}: no column for property ${property}`);
      return column;
    });
    const values = rows.map((_, r) => `(${columns.map((_c, c) => `$${r * columns.length + c + 1}`).join(', ')})`);
    const sql = `INSERT INTO "${metadata.tableName}" (${columns.map((c) => `"${c.databaseName}"`).join(', ')}) VALUES ${values.join(', ')}`;
    statement = { sql, columns };
    statements.set(key, statement);
  }
  const params: unknown[] = [];
  for (const row of rows) {
    for (const column of statement.columns) {
      let value: unknown = (row as Record<string, unknown>)[column.propertyName];
      // An absent optional value is NULL (insert() would write the column's default: none of these has one).
      if (value === undefined && column.isNullable && column.default === undefined) value = null;
      if (value === undefined) throw new Error(`${metadata.tableName}: ${column.propertyName} is missing from a row`);
      params.push((column.type === 'jsonb' || column.type === 'json') && value !== null ? JSON.stringify(value) : value);
    }
  }
  await manager.query(statement.sql, params);
}
