import { createServer, type Server } from 'node:http';
import type { FetchLike } from '../../../src/sdk';
import { closeServer, listenOnLoopback } from '../../support/local-server';

/** A clock the test moves: milliseconds since the epoch, starting now. */
export class FakeClock {
  ms = Date.now();
  readonly now = (): number => this.ms;
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

/** The real global fetch, counting the requests per path that went through it. */
export function countingFetch(): FetchLike & { count(path: string): number; total(): number } {
  const counts = new Map<string, number>();
  const fn = (async (input: string | URL, init?: RequestInit) => {
    const path = new URL(input).pathname;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    return fetch(input, init);
  }) as FetchLike & { count(path: string): number; total(): number };
  fn.count = (path) => counts.get(path) ?? 0;
  fn.total = () => [...counts.values()].reduce((a, b) => a + b, 0);
  return fn;
}

/** A sleep that returns at once and remembers what it was asked to wait. */
export function recordingSleep(): { sleep: (ms: number) => Promise<void>; waits: number[] } {
  const waits: number[] = [];
  return { waits, sleep: async (ms) => void waits.push(ms) };
}

/** A JWKS endpoint answering what the test sets (`status`, `body`), counting its requests. */
export class JwksStub {
  status = 200;
  body: unknown = { keys: [] };
  requests = 0;
  private server: Server | null = null;
  url = '';

  async start(): Promise<this> {
    const server = createServer((_req, res) => {
      this.requests += 1;
      res.writeHead(this.status, { 'content-type': 'application/json' }).end(JSON.stringify(this.body));
    });
    this.url = `${await listenOnLoopback(server)}/.well-known/jwks.json`;
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await closeServer(server);
  }
}
