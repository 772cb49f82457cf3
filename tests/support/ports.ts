import { createServer } from 'node:net';

/**
 * Ports for the servers a suite starts itself (child processes, SMTP and OAuth peers, TCP proxies): each jest
 * worker has a range of its own, below Linux's ephemeral range (32768-60999), so no port the kernel hands out
 * (a `listen(0)` anywhere, a connection's local port) and no other worker's suite ever takes one. A suite may
 * therefore hand a port to a child process, or stop a server and expect its port to refuse, then start it there
 * again, while the other workers run: the races that once kept such suites in the serial group
 * (tests/support/serial-suites.cjs). Outside jest (JEST_WORKER_ID unset) the first range is used.
 */
const FIRST_PORT = 20_000;
const PORTS_PER_WORKER = 1_000;
const WORKER_RANGES = 10; // 20000-29999: below 32768 (and below the Redis topology helper's 30000-48999)

function range(): { first: number; size: number } {
  const worker = Math.max(1, Number(process.env.JEST_WORKER_ID ?? '1') || 1);
  return { first: FIRST_PORT + ((worker - 1) % WORKER_RANGES) * PORTS_PER_WORKER, size: PORTS_PER_WORKER };
}

/** A random start, so a suite does not retry the ports the one before it on this worker used. */
let next = Math.floor(Math.random() * PORTS_PER_WORKER);

/** Whether 127.0.0.1:`port` can be bound now. */
export function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A port of this worker's range, free now and not handed out before by this suite (each call moves on), for a
 * server of the test or a child process to bind.
 */
export async function freePort(): Promise<number> {
  const { first, size } = range();
  for (let tried = 0; tried < size; tried += 1) {
    const port = first + (next % size);
    next = (next + 1) % size;
    if (await isFree(port)) return port;
  }
  throw new Error(`no free port in ${first}-${first + size - 1}`);
}
