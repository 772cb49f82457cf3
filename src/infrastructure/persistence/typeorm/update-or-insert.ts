import type { EntityManager, EntityTarget, FindOptionsWhere, ObjectLiteral } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';

/**
 * Saves an aggregate row: UPDATE by primary key, INSERT when there was none. Not `INSERT ... ON CONFLICT DO
 * UPDATE`: that locks the existing row FOR UPDATE whenever the SET list names a key column (it always names
 * the primary key), which conflicts with the KEY SHARE lock a child insert takes on the same row (a session
 * row referencing its user). Two concurrent logins of one user then deadlock. A plain UPDATE that leaves the
 * key values as they were takes FOR NO KEY UPDATE, which does not conflict.
 */
export async function updateOrInsert<T extends ObjectLiteral>(
  manager: EntityManager,
  target: EntityTarget<T>,
  key: keyof T & string,
  row: T,
): Promise<void> {
  const { [key]: id, ...changes } = row;
  const result = await manager
    .createQueryBuilder()
    .update(target)
    .set(changes as unknown as QueryDeepPartialEntity<T>)
    .where({ [key]: id } as FindOptionsWhere<T>)
    .execute();
  if (!result.affected) await manager.insert(target, row as QueryDeepPartialEntity<T>);
}
