import type { Socket } from 'node:net';
import { Client, Connection } from 'pg';
import { wasQueryCanceled } from './pg-errors';

/**
 * Past its deadline, how long a query's own reply is awaited once the server was asked to cancel it (and the longest
 * the cancel request's own connection may take). A healthy link answers within milliseconds, so more would only
 * delay the 503 of a stalled one.
 */
export const CANCEL_GRACE_MS = 1000;

export class DatabaseStallError extends Error {
  /** Node's code for an operation that timed out: the HTTP error mapper answers it as an outage (503). */
  readonly code = 'ETIMEDOUT';

  /** `outcome`: the server cancelled the query (nothing was carried out), or no reply came and the connection was closed. */
  constructor(ms: number, outcome: 'cancelled' | 'closed' = 'closed') {
    super(`database: no answer within ${ms} ms; ${outcome === 'cancelled' ? 'the query was cancelled' : 'the connection was closed'}`);
    this.name = 'DatabaseStallError';
  }
}

/** A pool's deadline per query, in ms; null (no deadline) until armed, so that migrations run without one. */
export interface QueryDeadline {
  ms: number | null;
}

/**
 * The pg Client class of a pool whose every query answers, or fails, within `deadline.ms` (plus CANCEL_GRACE_MS).
 * pg's own `query_timeout` rejects the promise but leaves the query running on the connection, which then goes
 * back to the pool busy; a link that stalled (packets dropped, nothing reset) held the caller for as long as it
 * lasted. On expiry:
 *
 * 1. The server is asked to cancel the query (PostgreSQL's CancelRequest, over a short connection of its own): a
 *    backend waiting on a lock does not notice its client's connection close, so closing it alone left the
 *    statement to run (an autocommit UPDATE committed once the lock went, after the request had answered 503) and
 *    the backend to linger, one more per timed-out query.
 * 2. The query's own reply is awaited for CANCEL_GRACE_MS. If it comes (a healthy link, a slow server), it is
 *    definitive: a result resolves as such (the write happened), a cancellation (57014) rejects with
 *    DatabaseStallError (nothing was carried out; inside a transaction TypeORM then rolls back), any other error
 *    as it is; the connection stays in the pool. It is passed on only once the cancel request's connection has
 *    ended (the server has signalled the backend by then), so that a late cancel hardly ever meets the next
 *    statement (if one does, its 57014 answers 503 too: see the HTTP error mapper).
 * 3. No reply within the grace (a stalled link): the connection's socket is destroyed with DatabaseStallError, so
 *    every query waiting on it fails, the client stops being queryable and the pool discards it, and the server,
 *    seeing the connection end, rolls back its open transaction.
 *
 * A timer that fires late because the event loop was busy gives the reply one more turn of the loop (setImmediate
 * runs after pending I/O) before it counts. Only promise-style queries (what TypeORM and preparedQuery send) are
 * bounded; callback and stream queries are not used by the service.
 */
export function clientUnderDeadline(deadline: QueryDeadline): typeof Client {
  class ClientUnderDeadline extends Client {}
  // Client#query has a dozen overloads; the override takes them all and looks the original up at each call.
  Object.defineProperty(ClientUnderDeadline.prototype, 'query', {
    value: function query(this: Client, ...args: unknown[]): unknown {
      const result = (Client.prototype.query as (...args: unknown[]) => unknown).apply(this, args);
      const ms = deadline.ms;
      if (ms === null || !isPromiseLike(result)) return result;
      return withDeadline(result, ms, {
        cancel: () => requestCancel(this),
        destroy: (error) => this.connection.stream.destroy(error),
      });
    },
    writable: true,
    configurable: true,
  });
  return ClientUnderDeadline;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** What pg's Client keeps from the server's BackendKeyData, and the parts of pg's Connection a cancel request uses. */
interface BackendKey {
  processID: number | null;
  secretKey: unknown;
}
interface CancelConnection {
  readonly stream: Socket;
  connect(port: number | string, host?: string): void;
  cancel(processID: number, secretKey: unknown): void;
  on(event: 'connect' | 'end' | 'error', listener: () => void): unknown;
}

/**
 * Asks the server to cancel whatever `client`'s backend is running: a CancelRequest (its process id and secret key)
 * over a new connection to the same host, as libpq's PQcancel sends it (in the clear: the server reads a cancel
 * request before any TLS or authentication). The server answers nothing and closes that connection once it has
 * signalled the backend; it is closed here too after CANCEL_GRACE_MS at the latest. Resolves when it has ended,
 * however (never rejects: a cancel that cannot be sent leaves the grace to run out).
 */
function requestCancel(client: Client): Promise<void> {
  const { processID, secretKey } = client as unknown as BackendKey;
  if (processID === null || processID === undefined) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const connection = new Connection() as unknown as CancelConnection;
    const finish = () => {
      clearTimeout(timer);
      connection.stream.destroy();
      resolve();
    };
    const timer = setTimeout(finish, CANCEL_GRACE_MS);
    timer.unref();
    connection.on('error', finish);
    connection.on('end', finish);
    // No half-close after it: PgBouncer drops a cancel request whose client has gone (libpq waits for the close too).
    connection.on('connect', () => connection.cancel(processID, secretKey));
    if (client.host.startsWith('/')) connection.connect(`${client.host}/.s.PGSQL.${client.port}`);
    else connection.connect(client.port, client.host);
  });
}

interface Expiry {
  /** Asks the server to cancel the query; resolves once that request is done with (sent and closed, or given up). */
  cancel(): Promise<void>;
  /** Closes the connection the query runs on. */
  destroy(error: DatabaseStallError): void;
}

function withDeadline<T>(promise: PromiseLike<T>, ms: number, expiry: Expiry): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let cancelled: Promise<void> | null = null;
    let grace: NodeJS.Timeout | undefined;
    // A late timer lets pending replies in first: setImmediate runs after the I/O the loop has waiting.
    const later = (run: () => void) => () => setImmediate(run);
    const timer = setTimeout(
      later(() => {
        if (settled) return;
        cancelled = expiry.cancel();
        grace = setTimeout(
          later(() => {
            if (settled) return;
            settled = true;
            const error = new DatabaseStallError(ms, 'closed');
            expiry.destroy(error);
            reject(error);
          }),
          CANCEL_GRACE_MS,
        );
        grace.unref();
      }),
      ms,
    );
    timer.unref();
    const answered = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(grace);
      // After a cancel request, the answer waits for it to be done with, so that it cannot meet the next statement.
      if (cancelled === null) outcome();
      else void cancelled.then(outcome);
    };
    promise.then(
      (value) => answered(() => resolve(value)),
      (error: unknown) =>
        answered(() => reject(cancelled !== null && wasQueryCanceled(error) ? new DatabaseStallError(ms, 'cancelled') : error)),
    );
  });
}
