import { randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { metaFor } from '@interface/http/envelope';

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface HttpServerLimits {
  /**
   * The whole request (headers and body) must arrive within this (default 30 s), else 408 and the connection
   * closes: a client that trickles a body (slowloris) holds a socket for this long at most, not Node's 300 s.
   */
  requestTimeoutMs?: number;
  /** The headers must arrive within this (default 15 s). */
  headersTimeoutMs?: number;
  /**
   * A connection on which nothing is read or written for this long while a request is open is destroyed (default
   * 15 s): a client that sends requests and never reads the answers holds them in memory for this long at most.
   */
  stalledSocketTimeoutMs?: number;
  /**
   * Most requests one connection may have open at once (default 32; HTTP/1.1 pipelining): one more destroys it.
   * Node parses every request of a chunk at once, and each open response is kept until the client reads the ones
   * before it.
   */
  maxOpenRequestsPerSocket?: number;
}

/**
 * An HTTP server that knows which requests are still being handled. Closing the sockets is not enough for a
 * graceful stop: a handler whose client has gone keeps running (a registration hashing, a transaction
 * committing), and closing the database under it turns its work into errors. stop() stops accepting, lets
 * open requests finish, waits for every handler to return, all within `graceMs`.
 */
export class TrackedHttpServer {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly server: Server;

  constructor(handler: Handler, limits: HttpServerLimits = {}) {
    const requestTimeout = limits.requestTimeoutMs ?? 30_000;
    const headersTimeout = Math.min(limits.headersTimeoutMs ?? 15_000, requestTimeout);
    // The timeouts are enforced by a sweep every connectionsCheckingInterval (Node's default 30 s would let a
    // 30-s timeout run to a minute).
    const connectionsCheckingInterval = Math.max(100, Math.min(2_000, Math.floor(headersTimeout / 2)));
    const stalledSocketTimeout = limits.stalledSocketTimeoutMs ?? 15_000;
    const maxOpen = limits.maxOpenRequestsPerSocket ?? 32;
    const openPerSocket = new WeakMap<Socket, number>();
    // requireHostHeader off: Node's own refusal of an HTTP/1.1 request without Host is a bare 400 with no envelope
    // and no X-Request-ID (CONTRACT §1); the same refusal is made below, in the envelope.
    this.server = createServer({ requestTimeout, headersTimeout, connectionsCheckingInterval, requireHostHeader: false }, (req, res) => {
      if (req.headers.host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor >= 1) {
        answerWithoutApp(res, 400, 'BAD_REQUEST', 'An HTTP/1.1 request needs a Host header.');
        return;
      }
      // An outside review (2026-11-30) crashed the process (heap exhausted in 45 s at 200 requests/s) with sockets
      // that pipelined 200 requests each and never read: every response stayed queued, and nothing closed them.
      const socket = req.socket;
      const open = (openPerSocket.get(socket) ?? 0) + 1;
      openPerSocket.set(socket, open);
      res.once('close', () => openPerSocket.set(socket, (openPerSocket.get(socket) ?? 1) - 1));
      if (open > maxOpen) {
        socket.destroy();
        return;
      }
      // No read or write on the socket for this long (an unread answer stays unsent): Node's server destroys it.
      // Set per request: between requests Node's keep-alive timeout applies, and it clears this.
      socket.setTimeout(stalledSocketTimeout);
      const handling: Promise<void> = handler(req, res)
        .catch(() => undefined) // the handler answers its own errors; this only tracks completion
        .finally(() => this.inFlight.delete(handling));
      this.inFlight.add(handling);
    });
    this.server.on('clientError', answerClientError);
    // CONNECT (a proxy tunnel) is not ours to serve: without a listener Node closes the socket without a word.
    this.server.on('connect', (_req: IncomingMessage, socket: Duplex) => answerRaw(socket, 405, 'METHOD_NOT_ALLOWED', 'CONNECT is not supported.'));
  }

  get handling(): number {
    return this.inFlight.size;
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  async stop(graceMs: number): Promise<void> {
    const deadline = delay(graceMs);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    await Promise.race([Promise.all([closed, Promise.allSettled([...this.inFlight])]), deadline.promise]);
    // Past the grace period: drop what is left rather than hang the shutdown.
    this.server.closeAllConnections();
    deadline.cancel();
  }
}

/**
 * What Node's parser refuses before the app sees a request (a malformed request line or header, headers over
 * the limit, a request that did not arrive in time) gets the contract's error envelope and an X-Request-ID
 * (CONTRACT §1: every response), not Node's bare status line; then the connection closes.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  const pending = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || pending?.headersSent === true) {
    socket.destroy();
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const message = status === 431 ? 'The request headers are too large.' : status === 408 ? 'The request did not arrive in time.' : 'The request is not valid HTTP.';
  answerRaw(socket, status, 'BAD_REQUEST', message);
}

/** An answer in the error envelope to a parsed request the app does not see. */
function answerWithoutApp(res: ServerResponse, status: number, code: string, message: string): void {
  const requestId = randomUUID();
  const body = JSON.stringify({ success: false, error: { code, message }, meta: metaFor(requestId) });
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'X-Request-ID': requestId,
    'Cache-Control': 'no-store',
  });
  res.end(body);
}

/** An answer in the error envelope written straight to the socket (no app behind it), then the connection closes. */
function answerRaw(socket: Duplex, status: number, code: string, message: string): void {
  const requestId = randomUUID();
  const body = JSON.stringify({ success: false, error: { code, message }, meta: metaFor(requestId) });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Request-ID: ${requestId}\r\n` +
      'Cache-Control: no-store\r\n' +
      'Connection: close\r\n\r\n' +
      body,
  );
}

function delay(ms: number): { promise: Promise<void>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}
