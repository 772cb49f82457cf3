import { createServer, connect, type Server, type Socket } from 'node:net';
import { Transform } from 'node:stream';
import { freePort } from './ports';

/**
 * A TCP proxy the test puts between the service and a server, to cut the network and restore it. Cut: every
 * open connection is destroyed and new ones are reset at once (as a broker that went away); stall: nothing
 * flows and nothing is reset; slow: new connections carry their bytes late; restore: traffic flows again.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  /** The client sides of the connections being forwarded now. */
  private readonly forwarding = new Set<Socket>();
  private server: Server | null = null;
  private cutOff = false;
  private stalled = false;
  private latencyMs = 0;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<number> {
    const server = createServer((client) => this.accept(client));
    // A port of this worker's range (tests/support/ports.ts): nothing else takes it while the proxy is away.
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.server = server;
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    return this.port;
  }

  /** How many connections are being forwarded now (accepted, and neither side has closed). */
  get openConnections(): number {
    return this.forwarding.size;
  }

  /** `url` with its host and port replaced by the proxy's. */
  through(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  cut(): void {
    this.cutOff = true;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  /**
   * A network that silently drops packets: open connections stay open, and new ones are accepted, but nothing is
   * forwarded either way and nothing is reset; the peers learn of it only by waiting. restore() ends it (the stalled
   * connections are closed then, as a peer's keepalive would eventually).
   */
  stall(): void {
    this.stalled = true;
    for (const socket of this.sockets) {
      socket.unpipe();
      socket.removeAllListeners('data');
      socket.on('data', () => undefined);
    }
  }

  /**
   * A slow link: the connections accepted from now on (not the open ones) forward every chunk, either way, `ms`
   * later, in order; a round trip over one takes twice as long. restore() ends it for the connections after.
   */
  slow(ms: number): void {
    this.latencyMs = ms;
  }

  restore(): void {
    this.cutOff = false;
    this.latencyMs = 0;
    if (this.stalled) {
      this.stalled = false;
      for (const socket of this.sockets) socket.destroy();
      this.sockets.clear();
    }
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private accept(client: Socket): void {
    if (this.cutOff) {
      client.resetAndDestroy();
      return;
    }
    if (this.stalled) {
      this.sockets.add(client);
      client.on('data', () => undefined).on('error', () => client.destroy());
      return;
    }
    const upstream = connect(this.targetPort, this.targetHost);
    this.sockets.add(client);
    this.sockets.add(upstream);
    this.forwarding.add(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
      this.forwarding.delete(client);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    if (this.latencyMs > 0) {
      client.pipe(delayed(this.latencyMs)).pipe(upstream);
      upstream.pipe(delayed(this.latencyMs)).pipe(client);
      return;
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

/** Passes every chunk on `ms` after it came, without holding back the ones behind it (timers of one delay fire in order). */
function delayed(ms: number): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      setTimeout(() => this.push(chunk), ms);
      done();
    },
    flush(done) {
      setTimeout(done, ms);
    },
  });
}
