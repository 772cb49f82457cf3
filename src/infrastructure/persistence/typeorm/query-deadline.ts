import { Client } from 'pg';

export class DatabaseStallError extends Error {
  /** Node's code for an operation that timed out: the HTTP error mapper answers it as an outage (503). */
  readonly code = 'ETIMEDOUT';

  constructor(ms: number) {
    super(`database: no answer within ${ms} ms; the connection was closed`);
    this.name = 'DatabaseStallError';
  }
}

/** A pool's deadline per query, in ms; null (no deadline) until armed, so that migrations run without one. */
export interface QueryDeadline {
  ms: number | null;
}

/**
 * The pg Client class of a pool whose every query answers, or fails, within `deadline.ms`. pg's own
 * `query_timeout` rejects the promise but leaves the query running on the connection, which then goes back to the
 * pool busy; a link that stalled (packets dropped, nothing reset) held the caller for as long as it lasted. On
 * expiry the connection's socket is destroyed: every query waiting on it fails with DatabaseStallError, the client
 * stops being queryable and the pool discards it, and the server, seeing the connection end, rolls back its open
 * transaction. A timer that fires late because the event loop was busy gives the reply one more turn of the loop
 * (setImmediate runs after pending I/O) before it counts as a stall. Only promise-style queries (what TypeORM and
 * preparedQuery send) are bounded; callback and stream queries are not used by the service.
 */
export function clientUnderDeadline(deadline: QueryDeadline): typeof Client {
  class ClientUnderDeadline extends Client {}
  // Client#query has a dozen overloads; the override takes them all and looks the original up at each call.
  Object.defineProperty(ClientUnderDeadline.prototype, 'query', {
    value: function query(this: Client, ...args: unknown[]): unknown {
      const result = (Client.prototype.query as (...args: unknown[]) => unknown).apply(this, args);
      const ms = deadline.ms;
      if (ms === null || !isPromiseLike(result)) return result;
      return withDeadline(result, ms, (error) => this.connection.stream.destroy(error));
    },
    writable: true,
    configurable: true,
  });
  return ClientUnderDeadline;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function withDeadline<T>(promise: PromiseLike<T>, ms: number, expire: (error: DatabaseStallError) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(
      () =>
        setImmediate(() => {
          if (settled) return;
          settled = true;
          const error = new DatabaseStallError(ms);
          expire(error);
          reject(error);
        }),
      ms,
    );
    timer.unref();
    promise.then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
