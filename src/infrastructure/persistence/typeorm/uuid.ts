const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are uuid columns: a non-UUID can match no row, and asking PostgreSQL would turn "not found" into an error. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
