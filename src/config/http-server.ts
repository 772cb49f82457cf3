import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { closeByServer, markClosedByServer } from '@interface/http/middleware/client-gone';
import { ALLOWED_METHODS, answerClientError, answerRaw, answerWithoutApp, peerOf, refusal, repeatedHeader, requestIdOf, unreadableTarget, type RefusedRequest } from './http-refusals';

export { REFUSAL_STATUS, type RefusalReason, type RefusedRequest } from './http-refusals';

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * The default stalled-socket timeout (HttpServerLimits.stalledSocketTimeoutMs). A request whose handler waits this long
 * without writing loses its connection, so no wait of the service may come near it (env.ts caps the query deadline).
 */
export const STALLED_SOCKET_TIMEOUT_MS = 15_000;

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
   * Most requests one connection may have open at once (default 32; HTTP/1.1 pipelining): one more destroys it. Node
   * parses every request of a chunk at once, and each open response is kept until the client reads the ones before it.
   */
  maxOpenRequestsPerSocket?: number;
  /** An idle connection is closed after this (default 5 s, Node's own): HTTP_KEEP_ALIVE_TIMEOUT. */
  keepAliveTimeoutMs?: number;
}

/**
 * An HTTP server that knows which requests are still being handled. Closing the sockets is not enough for a
 * graceful stop: a handler whose client has gone keeps running (a registration hashing, a transaction
 * committing), and closing the database under it turns its work into errors. stop() stops accepting, lets
 * open requests finish, waits for every handler to return, all within `graceMs`.
 */
export class TrackedHttpServer {
  private readonly inFlight = new Set<Promise<void>>();
  /** Responses not finished yet, and the open connections: what stop() ends and, past its grace, marks and cuts. */
  private readonly unanswered = new Set<ServerResponse>();
  private readonly connections = new Set<Socket>();
  /** Set by quiesce() or stop(), the drain: every answer from then on ends its connection (`Connection: close`). */
  private stopping = false;
  private readonly server: Server;
  /** When the latest connection was accepted (ms, Date.now()); 0 before the first. */
  private lastConnectionAt = 0;

  /** `onRefused`: told of every request answered here without the app (to log and count it). */
  constructor(handler: Handler, limits: HttpServerLimits = {}, onRefused: (refusal: RefusedRequest) => void = () => undefined) {
    const requestTimeout = limits.requestTimeoutMs ?? 30_000;
    const headersTimeout = Math.min(limits.headersTimeoutMs ?? 15_000, requestTimeout);
    // The timeouts are enforced by a sweep every connectionsCheckingInterval (Node's default 30 s would let a
    // 30-s timeout run to a minute).
    const connectionsCheckingInterval = Math.max(100, Math.min(2_000, Math.floor(headersTimeout / 2)));
    const stalledSocketTimeout = limits.stalledSocketTimeoutMs ?? STALLED_SOCKET_TIMEOUT_MS;
    const maxOpen = limits.maxOpenRequestsPerSocket ?? 32;
    const openPerSocket = new WeakMap<Socket, number>();
    // requireHostHeader off: Node's own refusal of an HTTP/1.1 request without Host is a bare 400 with no envelope
    // and no X-Request-ID (CONTRACT §1); the same refusal is made below, in the envelope.
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      if (req.headers.host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor >= 1) {
        const peer = peerOf(req.socket);
        onRefused(refusal('missing_host', null, peer, answerWithoutApp(res, 400, 'BAD_REQUEST', 'An HTTP/1.1 request needs a Host header.', declaresBody(req))));
        return;
      }
      // A second Host or Content-Type: which copy counts is the server's guess, and a proxy in front may have guessed
      // the other (as with a second Authorization header, refused in bearer-auth.ts). Refused before the app, with
      // the caller's X-Request-ID; as for a missing Host, a body is never read, and the connection closes behind it.
      const repeated = repeatedHeader(req);
      if (repeated !== null) {
        const peer = peerOf(req.socket);
        const requestId = answerWithoutApp(res, 400, 'BAD_REQUEST', `The request has more than one ${repeated} header.`, declaresBody(req), requestIdOf(res));
        onRefused(refusal('duplicate_header', null, peer, requestId));
        return;
      }
      if (unreadableTarget(req.url)) {
        onRefused(refusal('bad_target', null, peerOf(req.socket), answerWithoutApp(res, 400, 'BAD_REQUEST', 'The request target is not a URL the server can read.', declaresBody(req), requestIdOf(res))));
        return;
      }
      // An outside review (2026-11-30) crashed the process (heap exhausted in 45 s at 200 requests/s) with sockets
      // that pipelined 200 requests each and never read: every response stayed queued, and nothing closed them.
      const socket = req.socket;
      const open = (openPerSocket.get(socket) ?? 0) + 1;
      openPerSocket.set(socket, open);
      res.once('close', () => openPerSocket.set(socket, (openPerSocket.get(socket) ?? 1) - 1));
      if (open > maxOpen) {
        closeByServer(socket, 'too_many_open');
        return;
      }
      // No read or write on the socket for this long (an unread answer stays unsent): destroyed (the 'timeout'
      // listener below). Set per request: between requests Node's keep-alive timeout applies, and it clears this.
      socket.setTimeout(stalledSocketTimeout);
      // Stopping: the answer closes the connection, so a busy keep-alive client (an ingress, a pooled fetch) goes
      // elsewhere for its next request instead of being cut at the end of the grace period.
      if (this.stopping) res.setHeader('Connection', 'close');
      if (declaresBody(req)) closeIfAnsweredUnread(req, res);
      this.unanswered.add(res);
      res.once('close', () => this.unanswered.delete(res));
      const handling: Promise<void> = handler(req, res)
        .catch(() => undefined) // the handler answers its own errors; this only tracks completion
        .finally(() => this.inFlight.delete(handling));
      this.inFlight.add(handling);
    };
    this.server = createServer({ requestTimeout, headersTimeout, connectionsCheckingInterval, requireHostHeader: false }, onRequest);
    this.server.keepAliveTimeout = limits.keepAliveTimeoutMs ?? 5_000;
    // Every header is kept: Node's default keeps the first 2000 entries of the list (about 1,000 headers) and drops
    // the rest without a word, so about 1,000 small fillers (10 KB) hid a second Authorization header from the
    // duplicate check, and a Content-Type after them was lost (a review of stop 50). The 16 KiB header limit
    // (Node's maxHeaderSize, answered 431) bounds them.
    this.server.maxHeadersCount = 0;
    this.server.on('connection', (socket: Socket) => {
      this.lastConnectionAt = Date.now();
      this.connections.add(socket);
      socket.once('close', () => this.connections.delete(socket));
    });
    // An `Expect` other than 100-continue: Node's own answer is a bare 417 with no envelope and no X-Request-ID
    // (CONTRACT §1). RFC 9110 §10.1.1 lets a server ignore an expectation it does not know ("MAY respond with
    // 417"), so the request is served as if it had none.
    this.server.on('checkExpectation', onRequest);
    // A socket timeout (the stalled-socket one above, or Node's keep-alive one between requests): with a listener
    // here Node leaves the destroying to it, marked as the server's doing so that the request log of a request
    // still open on it does not read as a client that left.
    // A request whose body stopped arriving is told so (408, as the request timeout's), then the connection
    // closes: until 2026-12-03 the stall (15 s) always came before the request timeout (30 s), and such a
    // client got no answer at all (an outside review). Any other stall (an answer never read) is destroyed.
    this.server.on('timeout', (socket: Socket) => {
      const open = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
      if (open && !open.headersSent && !open.req.complete && socket.writable) {
        markClosedByServer(socket, 'stalled');
        // The handler may be reading the body: its stream ends with an error rather than wait for bytes never coming.
        open.once('finish', () => {
          open.req.destroy();
          socket.destroy();
        });
        const requestId = answerWithoutApp(open, 408, 'BAD_REQUEST', 'The request body did not arrive in time.', true, requestIdOf(open));
        onRefused(refusal('timeout', null, peerOf(socket), requestId));
        // Not even the answer goes out within another stall: destroyed.
        setTimeout(() => socket.destroy(), stalledSocketTimeout).unref();
        return;
      }
      closeByServer(socket, 'stalled');
    });
    this.server.on('clientError', (error: Error & { code?: string }, socket: Duplex) => {
      const peer = peerOf(socket);
      const answered = answerClientError(error, socket);
      if (answered) onRefused(refusal(answered.reason, error.code ?? null, peer, answered.requestId));
    });
    // CONNECT (a proxy tunnel) is not ours to serve: without a listener Node closes the socket without a word.
    this.server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
      const peer = peerOf(socket);
      // A 405 names the methods that are (RFC 9110 §15.5.6; it named none until stop 63, a review).
      onRefused(refusal('connect', null, peer, answerRaw(socket, 405, 'METHOD_NOT_ALLOWED', 'CONNECT is not supported.', undefined, { Allow: ALLOWED_METHODS })));
    });
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

  /**
   * Resolves once no connection has come for `quietMs`, or after `maxMs`; the server keeps serving meanwhile. For a
   * node:cluster worker before stop(): the primary (round-robin scheduling) accepts connections itself and hands
   * them to the workers one at a time, and closes those it still holds once the last worker stops listening. A
   * worker that stopped at once dropped them: an outside review (2026-12-03) sent 60 logins, SIGTERM 200 ms later,
   * and 14 to 28 got ECONNRESET with WORKERS=2 (none with one process). Answers say `Connection: close` from here on,
   * the drain's start (until a review of 2026-12-08 only from stop(), which cut the connections kept alive meanwhile).
   */
  async quiesce(quietMs: number, maxMs: number): Promise<void> {
    this.closeAfterAnswers();
    const until = Date.now() + maxMs;
    for (;;) {
      const wait = Math.min(this.lastConnectionAt + quietMs, until) - Date.now();
      if (wait <= 0) return;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /**
   * Stops accepting connections, closes the idle ones, makes every answer from now on (those in progress whose head
   * is not sent yet included) end its connection, and waits until every connection has closed and every handler has
   * finished, handlers that start meanwhile included, for at most `graceMs`. Past that, what is left is cut, marked
   * as the server's doing (`shutdown` in the request log, a warning). Until 2026-12-05 a keep-alive connection busy
   * at the SIGTERM kept being served with `keep-alive` answers and was reset at the deadline, its requests logged as
   * clients gone, and stop() waited only for the handlers running at its start (a security review).
   */
  async stop(graceMs: number): Promise<void> {
    const deadline = delay(graceMs);
    this.closeAfterAnswers();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const drained = (async () => {
      await closed;
      while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    })();
    await Promise.race([drained, deadline.promise]);
    // Past the grace period: drop what is left rather than hang the shutdown.
    for (const socket of this.connections) markClosedByServer(socket, 'shutdown');
    this.server.closeAllConnections();
    deadline.cancel();
  }

  private closeAfterAnswers(): void {
    this.stopping = true;
    for (const res of this.unanswered) if (!res.headersSent) res.setHeader('Connection', 'close');
  }
}

function delay(ms: number): { promise: Promise<void>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return { promise, cancel: () => clearTimeout(timer) };
}

/** Whether the request's headers announce a body (a length above 0, or chunks). */
function declaresBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
}

/**
 * An answer written before the request's body was read (401 at the token check, 404/405, 429 at the per-IP limit,
 * the fast paths) says `Connection: close`, so Node ends the connection once it is sent. Otherwise Node read and
 * threw away the rest of the body until the request timeout: one request could stream into the server for 30 s after
 * its 429, and the per-IP limit did not bound it (an outside review, stop 49, measured 11.4 GB in 31 s behind one
 * 429). Every way to answer (writeHead, or the implicit headers of write/end) goes through writeHead.
 */
function closeIfAnsweredUnread(req: IncomingMessage, res: ServerResponse): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    if (!req.complete && !this.headersSent) this.setHeader('Connection', 'close');
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as typeof res.writeHead;
}
