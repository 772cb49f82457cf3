import { randomUUID } from 'node:crypto';
import { type IncomingMessage, STATUS_CODES, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { parse as parseUrl } from 'node:url';
import { metaFor } from '@interface/http/envelope';
import { markClosedByServer } from '@interface/http/middleware/client-gone';
import { requestIdFor } from '@interface/http/middleware/request-id';

/* What the HTTP server answers itself, below the app (http-server.ts): the refusals and their envelopes. */

/** Why a request was answered here, below the app; each implies its status. */
export type RefusalReason = 'malformed' | 'header_overflow' | 'timeout' | 'missing_host' | 'duplicate_header' | 'bad_target' | 'connect';

export const REFUSAL_STATUS: Readonly<Record<RefusalReason, 400 | 405 | 408 | 431>> = {
  malformed: 400,
  header_overflow: 431,
  timeout: 408,
  missing_host: 400,
  duplicate_header: 400,
  bad_target: 400,
  connect: 405,
};

/** A request the server answered without the app (so without its request log line and metrics). Never its bytes. */
export interface RefusedRequest {
  reason: RefusalReason;
  status: 400 | 405 | 408 | 431;
  /** Node's parser error code (`HPE_INVALID_METHOD` ...), when the parser refused it; at most 40 of [A-Z0-9_]. */
  parserCode: string | null;
  /** The socket's peer (the proxy's address behind one); null once the socket is gone. */
  remoteAddress: string | null;
  /** The X-Request-ID the answer carried. */
  requestId: string;
}

/**
 * What Node's parser refuses before the app sees a request (a malformed request line or header, headers over
 * the limit, a request that did not arrive in time) gets the contract's error envelope and an X-Request-ID
 * (CONTRACT §1: every response), not Node's bare status line; then the connection closes.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): { reason: RefusalReason; requestId: string } | null {
  const pending = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return null;
  }
  // From here the server ends the connection: a request still open on it (pipelined before this one) is the
  // server's doing, not a client that left.
  markClosedByServer(socket as Socket, 'refused');
  if (pending?.headersSent === true) {
    socket.destroy();
    return null;
  }
  const reason: RefusalReason = error.code === 'HPE_HEADER_OVERFLOW' ? 'header_overflow' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'timeout' : 'malformed';
  const message = reason === 'header_overflow' ? 'The request headers are too large.' : reason === 'timeout' ? 'The request did not arrive in time.' : 'The request is not valid HTTP.';
  return { reason, requestId: answerRaw(socket, REFUSAL_STATUS[reason], 'BAD_REQUEST', message, pending ? requestIdOf(pending) : undefined) };
}

/**
 * The id of a request the app has seen (its X-Request-ID answer header, set first by the app), else the caller's
 * well-formed X-Request-ID: a refusal of a request whose headers were parsed answers with the id its log line has
 * (CONTRACT §1; until stop 49 both 408s carried a new one: an outside review).
 */
export function requestIdOf(res: ServerResponse): string {
  const set = res.getHeader('X-Request-ID');
  return typeof set === 'string' ? set : requestIdFor(res.req?.headers['x-request-id']);
}

/**
 * The header a request carries more than once, among those Node keeps only the first copy of in `req.headers`
 * while a proxy or firewall in front may act on another: Host (RFC 9112 §3.2: a server MUST answer 400) and
 * Content-Type (read as JSON here, as text by the firewall). Until stop 52 both were served as the first copy. The
 * others are refused already: a second Content-Length by Node's parser (400), and Node joins Content-Encoding copies
 * into a list, which the body readers refuse as they refuse a compressed body. Every request runs this, the hot paths
 * included: the raw list (a few entries, `rawHeaders`, case kept) is walked only when the parsed header is there,
 * names compared by length first.
 */
export function repeatedHeader(req: IncomingMessage): 'Host' | 'Content-Type' | null {
  const typed = req.headers['content-type'] !== undefined;
  if (req.headers.host === undefined && !typed) return null;
  const raw = req.rawHeaders;
  let hosts = 0;
  let types = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4) {
      if (name.toLowerCase() === 'host' && ++hosts > 1) return 'Host';
    } else if (typed && name.length === 12 && name.toLowerCase() === 'content-type' && ++types > 1) {
      return 'Content-Type';
    }
  }
  return null;
}

/** The socket's peer address, read before the answer closes the socket. */
export function peerOf(socket: Duplex): string | null {
  const address = (socket as Duplex & { remoteAddress?: unknown }).remoteAddress;
  return typeof address === 'string' ? address.slice(0, 64) : null;
}

/** What is told of a refusal: bounded fields only (the parser's code when it has the expected shape). */
export function refusal(reason: RefusalReason, code: string | null, remoteAddress: string | null, requestId: string): RefusedRequest {
  return { reason, status: REFUSAL_STATUS[reason], parserCode: code !== null && /^[A-Z0-9_]{1,40}$/.test(code) ? code : null, remoteAddress, requestId };
}

/**
 * A request target Node's parser took that Koa cannot read: an absolute-form target (`GET http://a[b/x HTTP/1.1`)
 * whose authority `url.parse` refuses, which Koa's `ctx.path` (parseurl) throws on at every read. Until stop 56 such a
 * request got a bare `500 text/plain` with no X-Request-ID and two error log lines: the error handler's answer read
 * `ctx.path`, and so did the request log after it, whose throw escaped every middleware (a review of stop 55). An
 * origin-form target (`/...`, every real client's) is never parsed here: url.parse reads it as a path and cannot fail.
 */
export function unreadableTarget(url: string | undefined): boolean {
  if (url === undefined || url.startsWith('/')) return false;
  try {
    // A target url.parse reads with no path (`foo://x`, `mailto:x`) is unreadable too: Koa's `ctx.path` is null, and
    // the first `ctx.path.startsWith` threw, with the same bare 500 (an outside review, 2026-12-07).
    return typeof parseUrl(url).pathname !== 'string';
  } catch {
    return true;
  }
}

/**
 * The app's security headers that matter on a JSON error (security.ts sets them on every response the app writes),
 * for the answers the server writes itself: until stop 63 these had none (a review).
 */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

/** The methods the app serves: a 405 the server writes itself names them in `Allow`. */
export const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

/** An answer in the error envelope to a parsed request the app does not see; returns its request id. */
export function answerWithoutApp(res: ServerResponse, status: number, code: string, message: string, close = false, requestId: string = randomUUID()): string {
  const body = JSON.stringify({ success: false, error: { code, message }, meta: metaFor(requestId) });
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'X-Request-ID': requestId,
    'Cache-Control': 'no-store',
    ...SECURITY_HEADERS,
    ...(close ? { Connection: 'close' } : {}),
  });
  res.end(body);
  return requestId;
}

/**
 * An answer in the error envelope written straight to the socket (no app behind it), then the connection closes;
 * returns its request id.
 */
export function answerRaw(socket: Duplex, status: number, code: string, message: string, requestId: string = randomUUID(), extra: Readonly<Record<string, string>> = {}): string {
  const body = JSON.stringify({ success: false, error: { code, message }, meta: metaFor(requestId) });
  const more = Object.entries({ ...SECURITY_HEADERS, ...extra })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Request-ID: ${requestId}\r\n` +
      'Cache-Control: no-store\r\n' +
      more +
      'Connection: close\r\n\r\n' +
      body,
  );
  return requestId;
}
