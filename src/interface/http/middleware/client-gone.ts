import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Why the HTTP server closed a connection itself (src/config/http-server.ts), rather than the client leaving. */
export type ServerCloseReason = 'stalled' | 'too_many_open' | 'refused' | 'shutdown';

/** The requests of one socket whose answers are not finished, and the one 'close' listener that watches them. */
interface OpenRequests {
  readonly waiting: Map<ServerResponse, AbortController>;
  readonly onClose: () => void;
}

const openBySocket = new WeakMap<Socket, OpenRequests>();
const closedByServer = new WeakMap<Socket, ServerCloseReason>();

/**
 * Aborted when the connection closes before the response is finished: the client is gone (or the server cut the
 * connection) and nothing can be answered. Use cases hand it to the password hasher, which skips a queued hash
 * nobody waits for any more (an outside review: logins fired and dropped at once kept the hashing queue full).
 *
 * Watched on the socket, not the response: Node emits a response's 'close' only for the one attached to the
 * socket, never for the pipelined ones queued behind it (an outside review: 20 pipelined logins on a dropped
 * socket were all hashed). One 'close' listener per socket serves all of its open requests (up to 32 pipelined),
 * and is removed once none is open, so a keep-alive socket gathers no listeners.
 */
export function clientGone(req: IncomingMessage, res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  const socket = req.socket;
  if (socket.destroyed) {
    controller.abort();
    return controller.signal;
  }
  let open = openBySocket.get(socket);
  if (open === undefined) {
    const waiting = new Map<ServerResponse, AbortController>();
    const onClose = () => {
      openBySocket.delete(socket);
      for (const [response, pending] of waiting) if (!response.writableFinished) pending.abort();
      waiting.clear();
    };
    open = { waiting, onClose };
    openBySocket.set(socket, open);
    socket.once('close', onClose);
  }
  open.waiting.set(res, controller);
  res.once('finish', () => forget(socket, res));
  return controller.signal;
}

/** The response was handed to the socket whole: its request no longer waits, and an idle socket is not watched. */
function forget(socket: Socket, res: ServerResponse): void {
  const open = openBySocket.get(socket);
  if (open === undefined) return;
  open.waiting.delete(res);
  if (open.waiting.size > 0) return;
  openBySocket.delete(socket);
  socket.removeListener('close', open.onClose);
}

/**
 * The server destroys a connection of its own accord (a limit of src/config/http-server.ts): marked first, so that
 * the request log of a request left unanswered on it tells this apart from a client that left.
 */
export function closeByServer(socket: Socket, reason: ServerCloseReason): void {
  markClosedByServer(socket, reason);
  socket.destroy();
}

/** Marks a connection the server is about to close by other means (an answer ending it); see closeByServer. */
export function markClosedByServer(socket: Socket, reason: ServerCloseReason): void {
  if (!closedByServer.has(socket)) closedByServer.set(socket, reason);
}

/** Why the server closed this connection; null when it did not (the client left, or it is still open). */
export function serverClosed(socket: Socket): ServerCloseReason | null {
  return closedByServer.get(socket) ?? null;
}
