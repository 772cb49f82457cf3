import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';

const columnLists = new Map<string, string>();

/**
 * `alias."db_name" AS "prefixpropertyName", ...` for an entity, built once from TypeORM's metadata. The hot
 * reads (every /auth/validate looks up a session and a user) run as plain SQL with these lists: TypeORM's
 * find() spends about 1 ms of CPU per call building the query and hydrating entities, four times the query.
 */
export function selectList<T extends ObjectLiteral>(manager: EntityManager, target: EntityTarget<T>, alias: string, prefix = ''): string {
  const metadata = manager.connection.getMetadata(target);
  const key = `${metadata.name}|${alias}|${prefix}`;
  let list = columnLists.get(key);
  if (list === undefined) {
    list = metadata.columns.map((c) => `${alias}."${c.databaseName}" AS "${prefix}${c.propertyName}"`).join(', ');
    columnLists.set(key, list);
  }
  return list;
}

/** Splits `prefix`-named columns of a raw row into a nested object (a one-to-one relation). */
export function nest<T extends ObjectLiteral, R extends ObjectLiteral>(row: Record<string, unknown>, prefix: string, into: string): T {
  const own: Record<string, unknown> = {};
  const nested: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (key.startsWith(prefix)) nested[key.slice(prefix.length)] = value;
    else own[key] = value;
  }
  own[into] = nested as R;
  return own as T;
}
