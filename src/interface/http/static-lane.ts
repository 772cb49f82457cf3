import { fixedHead, laneMayAnswer, type LaneOptions, type RequestHandler, requestRecorder } from './lane';
import { requestIdFor } from './middleware/request-id';
import type { RouteDef } from './routing/route';
import { ifNoneMatches, type StaticDocument } from './static-document';

interface LaneEntry {
  path: string;
  document(): StaticDocument | Promise<StaticDocument>;
}

/**
 * JWKS and RFC 8414 metadata at the speed of the HTTP stack: a GET or HEAD of a `staticDocument` route's exact
 * path is answered here, in front of Koa, with the precomputed bytes and the headers the general path would have
 * set (security headers, X-Request-ID, Cache-Control, ETag; Vary: Origin when CORS is on), a 304 for a matching
 * If-None-Match, the request-duration metric under the route's label and the access-log line. Everything else
 * (another path, a query string, an Origin while CORS is on, a document that cannot be had: the JWKS source
 * failing) goes to `next`, Koa, untouched: the route is mounted there too.
 */
export function staticLane(routes: readonly RouteDef[], options: LaneOptions, next: RequestHandler): RequestHandler {
  const entries = new Map<string, LaneEntry>();
  for (const route of routes) {
    if (!route.staticDocument) continue;
    if (route.method !== 'GET' || route.auth !== 'none' || route.body || route.query || route.limit || route.errorFormat || route.path.includes(':')) {
      throw new Error(`${route.method} ${route.path}: a static document is a GET of a fixed path with no auth, body, query, quota or error format`);
    }
    const service = route.uses === undefined ? undefined : options.resolve(route.uses);
    const render = route.staticDocument.bind(route);
    entries.set(route.path, { path: route.path, document: () => render(service) });
  }
  if (entries.size === 0) return next;
  const fixed = fixedHead(options);
  const record = requestRecorder(options);
  const REQUEST_ID_SLOT = fixed.length + 1;
  /** A document's head for 200 and for 304, built once per rendering: the request id's slot is filled per request. */
  const built = new WeakMap<StaticDocument, { ok: string[]; notModified: string[] }>();
  const heads = (document: StaticDocument) => {
    let head = built.get(document);
    if (head === undefined) {
      const common = [...fixed, 'X-Request-ID', '', 'Cache-Control', document.cacheControl, 'ETag', document.etag];
      head = { ok: [...common, 'Content-Type', document.contentType, 'Content-Length', String(document.body.length)], notModified: common };
      built.set(document, head);
    }
    return head;
  };

  return async (req, res) => {
    const method = req.method === 'HEAD' ? 'HEAD' : 'GET';
    const entry = req.method === 'GET' || req.method === 'HEAD' ? entries.get(req.url ?? '') : undefined;
    if (!entry || !laneMayAnswer(options, req)) return next(req, res);
    const started = process.hrtime.bigint();
    let document: StaticDocument;
    try {
      const pending = entry.document();
      document = pending instanceof Promise ? await pending : pending; // no promise to wait for when at hand
    } catch {
      return next(req, res); // Koa's route answers it, in the envelope, through the error handler
    }
    const requestId = requestIdFor(req.headers['x-request-id']);
    const ifNoneMatch = req.headers['if-none-match'];
    const status = ifNoneMatch !== undefined && ifNoneMatch !== '' && ifNoneMatches(ifNoneMatch, document.etag) ? 304 : 200;
    const headers = heads(document)[status === 200 ? 'ok' : 'notModified'];
    // writeHead copies the list before it returns: the one list per document and status takes this request's id.
    headers[REQUEST_ID_SLOT] = requestId;
    const gone = req.socket.destroyed; // before the answer, as the general path's log decides
    res.writeHead(status, headers);
    // An ASCII body as a string: Node sends it in one write with the head (a Buffer goes in a second chunk).
    res.end(status === 200 && method === 'GET' ? (document.ascii ?? document.body) : undefined);
    record(requestId, method, entry.path, status, started, req.socket, gone);
  };
}
