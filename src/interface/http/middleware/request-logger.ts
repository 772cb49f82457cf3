import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import type { HttpState, RequestLog } from '../http-state';
import { serverClosed } from './client-gone';

/** Longest path a log line carries; a longer one is cut, with how much was left out (Node allows 16 KB of them). */
const LOGGED_PATH_MAX = 256;

/**
 * What may be a secret in a path segment: a run of 22 or more base64url characters (16 bytes or more: the links'
 * tokens and client secrets are 32 bytes, 43 characters; a JWT's header alone is longer), as TOKEN_LIKE in
 * src/infrastructure/jobs/queue-settings.ts (not imported: interface does not reach into infrastructure).
 */
const TOKEN_RUN = /[A-Za-z0-9_-]{22,}/g;
/** Kept readable: lowercase words (`oauth-authorization-server`, a route's own segment), which no random token is... */
const WORDS = /^[a-z]+(?:-[a-z]+)*$/;
/** ...and an id (a session's UUID in `/users/me/sessions/:id`): ids in paths are what a reader needs. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A segment with what may be a secret in it, whole (a JWT's three parts go together), else as it is. */
function redactedSegment(segment: string): string {
  for (const [run] of segment.matchAll(TOKEN_RUN)) if (!UUID.test(run) && !WORDS.test(run)) return '[redacted]';
  return segment;
}

/**
 * The path as logged. What may be a secret in a segment is redacted: a client that put a verify token, a client
 * secret or a JWT in the path (`GET /auth/verify/<token>`, a 404) had it in the access log, still live (a review,
 * stop 52). Then cut: a 16 KB path made a 16 KB line, many per write when pipelined (outside review, 2026-11-30).
 * Node takes paths of up to 16 KB: redacting one whole is a few microseconds.
 */
export function loggedPath(path: string): string {
  const redacted = path.split('/').map(redactedSegment).join('/');
  return redacted.length <= LOGGED_PATH_MAX ? redacted : `${redacted.slice(0, LOGGED_PATH_MAX)}…(+${redacted.length - LOGGED_PATH_MAX})`;
}

/**
 * One line per request. Only method, path, status and duration: the query string may carry tokens
 * (verify links) and headers and bodies carry credentials, so none of them is logged.
 * Every line carries the request id as a field (no pino child logger per request: that would serialise the
 * bindings on every request, logged or not).
 */
export function requestLogger(root: Logger): Middleware<HttpState> {
  return async (ctx, next) => {
    const log = new BoundRequestLog(root, ctx.state.requestId);
    ctx.state.log = log;
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      // A client gone before the answer receives none (Koa writes nothing to a closed socket): whatever the status
      // (a hash it no longer waited for was skipped: 503), no failure of the service. A connection the server
      // closed itself (its stalled-socket or pipelining limit, src/config/http-server.ts) is no client leaving:
      // a warning naming the limit (a request that outlived the 15-s stall limit got an empty reply).
      const gone = ctx.state.client?.signal?.aborted === true;
      const closedBy = gone ? serverClosed(ctx.req.socket) : null;
      const level = closedBy !== null ? 'warn' : ctx.status >= 500 && !gone && ctx.state.statusIsTheAnswer !== true ? 'error' : 'info';
      if (root.isLevelEnabled(level)) {
        const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
        const fields = { method: ctx.method, path: loggedPath(ctx.path), status: ctx.status, duration_ms: Math.round(durationMs * 100) / 100 };
        if (closedBy !== null) log.warn({ ...fields, closed_by_server: closedBy }, 'connection closed by the server before the answer');
        else if (level === 'error') log.error(fields, 'request failed');
        else if (gone) log.info({ ...fields, client_gone: true }, 'client gone before the answer');
        else log.info(fields, 'request completed');
      }
    }
  };
}

class BoundRequestLog implements RequestLog {
  constructor(
    private readonly root: Logger,
    private readonly requestId: string,
  ) {}

  info(fields: object, message: string): void {
    this.root.info({ request_id: this.requestId, ...fields }, message);
  }

  warn(fields: object, message: string): void {
    this.root.warn({ request_id: this.requestId, ...fields }, message);
  }

  error(fields: object, message: string): void {
    this.root.error({ request_id: this.requestId, ...fields }, message);
  }
}
