/**
 * What a repository read FOR UPDATE (or added) in one unit of work, as it was: save() writes only the columns
 * that differ from it, and refuses an aggregate it has no row for (read without a lock, or in another unit of
 * work), so that a stale copy can never overwrite a newer row. Shared by the SQL and in-memory adapters.
 */
export class LockedRows<A extends object, R extends object> {
  private readonly rows = new WeakMap<A, R>();

  constructor(private readonly table: string) {}

  remember(aggregate: A, row: R): void {
    this.rows.set(aggregate, row);
  }

  isLocked(aggregate: A): boolean {
    return this.rows.has(aggregate);
  }

  /** The columns of `next` that differ from the row remembered for `aggregate`; throws if there is none. */
  changes(aggregate: A, next: R): Partial<R> {
    const previous = this.rows.get(aggregate);
    if (previous === undefined) throw notLocked(this.table);
    const changed: Partial<R> = {};
    for (const key of Object.keys(next) as (keyof R)[]) {
      if (!sameValue(previous[key], next[key])) changed[key] = next[key];
    }
    return changed;
  }

  /** The row remembered for `aggregate` (to tell an INSERT from an UPDATE of a child row); throws if there is none. */
  rowOf(aggregate: A): R {
    const row = this.rows.get(aggregate);
    if (row === undefined) throw notLocked(this.table);
    return row;
  }

  assertLocked(aggregate: A): void {
    if (!this.rows.has(aggregate)) throw notLocked(this.table);
  }
}

function notLocked(table: string): Error {
  return new Error(`${table}: save() needs a row read FOR UPDATE (or added) in the same unit of work`);
}

export function sameValue(a: unknown, b: unknown): boolean {
  if (isDate(a) && isDate(b)) return a.getTime() === b.getTime();
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => key in b && sameValue(a[key], b[key]));
  }
  return a === b;
}

/** A JSON-like object (a jsonb column's value, a typed credential), compared member by member. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Object.prototype.toString.call(value) !== '[object Object]') return false;
  // Any realm's Object.prototype (whose own prototype is null), or none: structuredClone in a test's VM context
  // makes objects and dates of the outer realm, which instanceof and === Object.prototype would not recognise.
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null;
}

function isDate(value: unknown): value is Date {
  return Object.prototype.toString.call(value) === '[object Date]';
}
