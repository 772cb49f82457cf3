/**
 * The database (or another server) could not be reached: Node's socket errors, PostgreSQL's connection-class
 * SQLSTATEs (08xxx) and shutdown or overload ones (57P01-57P03, 53300), and what the pg driver and its pool say
 * when a connection ends or cannot be had (ETIMEDOUT also marks a query past DATABASE_QUERY_TIMEOUT, cancelled on
 * the server or its connection closed). 57014 (query_canceled): a statement the server cancelled, not carried out
 * (a cancel request from the query deadline that met the connection's next statement, or a statement_timeout): a
 * slow database, answered as such. 25006 (read_only_sql_transaction): a write reached a server that takes none, a
 * demoted primary or a replica behind a DNS name or proxy that has not caught up with a failover (until stop 48 it was
 * a failure of the request: the event consumer dead-lettered security notices after 5 tries, about 15 s, and the
 * account-request worker counted it against the request; an outside review). Found on the error, its `driverError`
 * (TypeORM) or its `cause`.
 */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', '57014', '57P01', '57P02', '57P03', '53300', '25006']);
/**
 * The connection class includes 08P01 (protocol_violation): PgBouncer answers it for a PostgreSQL it cannot reach
 * (`query_wait_timeout`, `server login has been failing`), an outage. (Stop 52 briefly read it as a bug, after a
 * statement past the protocol's 65,535 parameters had been answered "try again": such statements are no longer
 * sent, raw-insert.ts, and a review of that change saw PgBouncer's outages answered 500.)
 */
const UNREACHABLE_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection is closed)/;

export function dependencyUnreachable(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 4) return false;
  const { code, message, driverError, cause } = error as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown };
  if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  if (typeof message === 'string' && UNREACHABLE_MESSAGES.test(message)) return true;
  return dependencyUnreachable(driverError, depth + 1) || dependencyUnreachable(cause, depth + 1);
}

/**
 * PostgreSQL rolled the transaction back because of a concurrent one: a deadlock (40P01), a serialization failure
 * (40001) or a lock it would not wait for (55P03). Locks are taken in one order (READ COMMITTED); the one path known
 * to produce one is two accounts swapping usernames (or confirmed addresses) at the same instant: each UPDATE waits in
 * the unique index on the other's row, and PostgreSQL ends one (a review, 2026-12-07; left: the survivor is answered
 * 409 as the contract says, the other this 503, and its retry the 409). Nothing is written, so a retry is safe and the
 * answer says to retry rather than report a bug (an outside review, 2026-12-02: they were 500s).
 */
const CONTENTION_CODES = new Set(['40P01', '40001', '55P03']);

export function transactionContended(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 4) return false;
  const { code, driverError, cause } = error as { code?: unknown; driverError?: unknown; cause?: unknown };
  if (typeof code === 'string' && CONTENTION_CODES.has(code)) return true;
  return transactionContended(driverError, depth + 1) || transactionContended(cause, depth + 1);
}
