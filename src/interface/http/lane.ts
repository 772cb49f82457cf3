import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Resolver } from './http-deps';
import type { HttpMetrics } from './metrics/http-metrics';
import { serverClosed } from './middleware/client-gone';
import { loggedPath } from './middleware/request-logger';

/**
 * What the lanes in front of Koa share (static-lane.ts, bearer-lane.ts): a request handler of the HTTP server,
 * the head every answer carries, and the metric and access-log line the general path would have recorded.
 */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface LaneOptions {
  resolve: Resolver;
  /** The security headers the general path sets (securityHeaderValues), captured once. */
  headers: Readonly<Record<string, string>>;
  /** CORS is on: a request with an Origin header goes to Koa, whose CORS middleware answers it. */
  cors: boolean;
  metrics?: HttpMetrics;
  logger: Logger;
}

/**
 * The fixed part of a lane's head as a flat [name, value, ...] list: writeHead takes it with far less work per
 * header than an object (measured: 30 µs instead of 50 per response with 17 headers). `Vary: Origin` when CORS
 * is on, as the general path's CORS middleware would add it.
 */
export function fixedHead(options: LaneOptions, more: Record<string, string> = {}): string[] {
  const head = [...Object.entries(options.headers).flat(), ...Object.entries(more).flat()];
  if (options.cors) head.push('Vary', 'Origin');
  return head;
}

/** Whether a lane may answer: with CORS on, a cross-origin request is Koa's (its CORS middleware answers it). */
export function laneMayAnswer(options: LaneOptions, req: IncomingMessage): boolean {
  return !(options.cors && req.headers.origin !== undefined);
}

/**
 * Records an answered request as the general path does (middleware/request-logger.ts): the request-duration
 * histogram under the route's label, and one access-log line with the request id: `request failed` at error level
 * from 500 on; a request whose connection was gone before the answer (checked before it is written: `gone`) is
 * `client gone before the answer` (info, whatever the status), or a warning naming the limit when the server
 * closed it itself. Until 2026-12-02 the lanes logged those as completed or failed (an outside review).
 */
export function requestRecorder(options: LaneOptions): (requestId: string, method: string, path: string, status: number, started: bigint, socket: Socket, gone: boolean) => void {
  const durations = options.metrics?.requestDurations;
  const logger = options.logger;
  return (requestId, method, path, status, started, socket, gone) => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    durations?.observe({ method, route: path, status: String(status) }, seconds);
    const closedBy = gone ? serverClosed(socket) : null;
    const level = closedBy !== null ? 'warn' : status >= 500 && !gone ? 'error' : 'info';
    if (!logger.isLevelEnabled(level)) return;
    // The path as the general path logs it (redacted, cut): a lane's is a route's fixed path, but one rule for both.
    const fields = { request_id: requestId, method, path: loggedPath(path), status, duration_ms: Math.round(seconds * 1e5) / 100 };
    if (closedBy !== null) logger.warn({ ...fields, closed_by_server: closedBy }, 'connection closed by the server before the answer');
    else if (level === 'error') logger.error(fields, 'request failed');
    else if (gone) logger.info({ ...fields, client_gone: true }, 'client gone before the answer');
    else logger.info(fields, 'request completed');
  };
}
