import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * An HTTP server that knows which requests are still being handled. Closing the sockets is not enough for a
 * graceful stop: a handler whose client has gone keeps running (a registration hashing, a transaction
 * committing), and closing the database under it turns its work into errors. stop() stops accepting, lets
 * open requests finish, waits for every handler to return, all within `graceMs`.
 */
export class TrackedHttpServer {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly server: Server;

  constructor(handler: Handler) {
    this.server = createServer((req, res) => {
      const handling: Promise<void> = handler(req, res)
        .catch(() => undefined) // the handler answers its own errors; this only tracks completion
        .finally(() => this.inFlight.delete(handling));
      this.inFlight.add(handling);
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

function delay(ms: number): { promise: Promise<void>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}
