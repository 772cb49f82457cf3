import type { Server } from 'node:http';
import { freePort } from './ports';

/**
 * Listens on 127.0.0.1 (`port` 0: a free one of this jest worker's range, tests/support/ports.ts, so the test may
 * stop the server and start it again there) and resolves with the base URL, e.g. http://127.0.0.1:20123.
 */
export async function listenOnLoopback(server: Server, port = 0): Promise<string> {
  const chosen = port === 0 ? await freePort() : port;
  await new Promise<void>((resolve) => server.listen(chosen, '127.0.0.1', resolve));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

/** Drops every connection (keep-alive ones too) and waits for the server to close. */
export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
