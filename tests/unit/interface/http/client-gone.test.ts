import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { clientGone } from '@interface/http/middleware/client-gone';
import { eventually } from '../../../support/events';

/**
 * clientGone(req, res): aborted when the connection closes before the answer is finished. An outside review found
 * that pipelined requests were never seen as gone (Node emits a response's 'close' only for the one attached to the
 * socket), so 20 logins pipelined on a dropped socket were all hashed.
 */
function portOf(server: Server): number {
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

/** The 'close' listeners Node itself leaves on a server socket after one answered keep-alive request. */
async function closeListenersOfIdleSocket(): Promise<number> {
  let socket: Socket | undefined;
  const control = createServer((req, res) => {
    socket = req.socket;
    res.end('ok');
  });
  await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
  const agent = new Agent({ keepAlive: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: portOf(control), path: '/', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      });
      req.on('error', reject);
      req.end();
    });
    await new Promise((resolve) => setImmediate(resolve));
    return socket!.listenerCount('close');
  } finally {
    agent.destroy();
    control.closeAllConnections();
    await new Promise<void>((resolve) => control.close(() => resolve()));
  }
}

describe('clientGone', () => {
  interface Seen {
    url: string;
    signal: AbortSignal;
    socket: Socket;
    /** The socket's 'close' listeners before this request's signal was made. */
    closeListenersBefore: number;
    res: ServerResponse;
  }
  let server: Server;
  let port: number;
  let seen: Seen[];
  /** Node's own 'close' listeners on a kept-alive server socket between requests (no clientGone involved). */
  let idleCloseListeners: number;
  /** Requests whose path starts with /hold are left unanswered (until answer()); the others are answered at once. */
  const answer = (entry: Seen) => entry.res.end('ok');
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);

  beforeAll(async () => {
    process.on('warning', onWarning);
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const closeListenersBefore = req.socket.listenerCount('close');
      const signal = clientGone(req, res);
      const entry = { url: req.url ?? '', signal, socket: req.socket, closeListenersBefore, res };
      seen.push(entry);
      if (!entry.url.startsWith('/hold')) answer(entry);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = portOf(server);
    idleCloseListeners = await closeListenersOfIdleSocket();
  });
  beforeEach(() => {
    seen = [];
  });
  afterAll(async () => {
    process.off('warning', onWarning);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** A raw connection that writes `payload` at once (HTTP/1.1 pipelining) and reads whatever comes back. */
  function pipeline(payload: string): { socket: Socket; received: () => string; closed: Promise<void> } {
    let text = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(payload));
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    return { socket, received: () => text, closed };
  }
  const requests = (paths: string[]) => paths.map((path) => `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`).join('');
  const serverClosed = (socket: Socket) => new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));

  it('aborts every pipelined request still open when the client drops the connection, not only the first', async () => {
    const paths = Array.from({ length: 20 }, (_, i) => `/hold/${i}`);
    const client = pipeline(requests(paths));
    await eventually(() => seen.length === 20, 5_000, 'the 20 pipelined requests handled');
    expect(seen.map((entry) => entry.signal.aborted)).toEqual(Array(20).fill(false));
    const socket = seen[0]!.socket;
    client.socket.destroy();
    await serverClosed(socket);
    await eventually(() => seen.every((entry) => entry.signal.aborted), 1_000, 'every signal aborted').catch(() => undefined);
    expect(seen.map((entry) => [entry.url, entry.signal.aborted])).toEqual(paths.map((path) => [path, true]));
  });

  it('aborts only the pipelined requests left unanswered when the connection closes', async () => {
    const paths = ['/hold/a', '/hold/b', '/hold/c', '/hold/d', '/hold/e'];
    const client = pipeline(requests(paths));
    await eventually(() => seen.length === 5, 5_000, 'the 5 pipelined requests handled');
    // The first two are answered and reach the client; the other three never are.
    answer(seen[0]!);
    answer(seen[1]!);
    await eventually(() => (client.received().match(/HTTP\/1\.1 200 OK/g) ?? []).length === 2, 5_000, 'two answers read');
    const socket = seen[0]!.socket;
    client.socket.destroy();
    await serverClosed(socket);
    await eventually(() => seen.slice(2).every((entry) => entry.signal.aborted), 1_000, 'the open ones aborted').catch(() => undefined);
    expect(seen.map((entry) => entry.signal.aborted)).toEqual([false, false, true, true, true]);
  });

  it('uses one close listener on a socket however many requests are pipelined on it (32 open), none once they are answered', async () => {
    const paths = Array.from({ length: 32 }, (_, i) => `/hold/${i}`);
    const client = pipeline(requests(paths));
    await eventually(() => seen.length === 32, 5_000, 'the 32 pipelined requests handled');
    const socket = seen[0]!.socket;
    // Node's own (the socket's, the answer being written's), plus one for all 32.
    expect(socket.listenerCount('close')).toBe(seen[0]!.closeListenersBefore + 1);
    for (const entry of seen) answer(entry);
    await eventually(() => (client.received().match(/HTTP\/1\.1 200 OK/g) ?? []).length === 32, 5_000, 'every answer read');
    await new Promise((resolve) => setImmediate(resolve));
    expect(socket.listenerCount('close')).toBe(idleCloseListeners);
    client.socket.destroy();
    await serverClosed(socket);
    expect(seen.filter((entry) => entry.signal.aborted)).toEqual([]);
    expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it('leaves no listener behind on a keep-alive socket that carries many sequential requests', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 60; i += 1) {
        await new Promise<void>((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port, path: `/n/${i}`, agent }, (res) => {
            res.resume();
            res.on('end', () => resolve());
          });
          req.on('error', reject);
          req.end();
        });
      }
      const sockets = new Set(seen.map((entry) => entry.socket));
      expect([seen.length, sockets.size]).toEqual([60, 1]);
      const socket = seen[0]!.socket;
      // Each request found the socket as the first did: nothing left by the ones before it.
      expect(new Set(seen.map((entry) => entry.closeListenersBefore))).toEqual(new Set([seen[0]!.closeListenersBefore]));
      await new Promise((resolve) => setImmediate(resolve));
      expect(socket.listenerCount('close')).toBe(idleCloseListeners);
      expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual([]);
      agent.destroy();
      await serverClosed(socket);
      expect(seen.filter((entry) => entry.signal.aborted)).toEqual([]);
    } finally {
      agent.destroy();
    }
  });

  it('is aborted at once for a request whose connection is already destroyed', () => {
    const socket = { destroyed: true } as Socket;
    const signal = clientGone({ socket } as IncomingMessage, {} as ServerResponse);
    expect(signal.aborted).toBe(true);
  });
});
