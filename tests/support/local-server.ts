import type { Server } from 'node:http';

/** Listens on 127.0.0.1 (`port` 0: any free one) and resolves with the base URL, e.g. http://127.0.0.1:41234. */
export async function listenOnLoopback(server: Server, port = 0): Promise<string> {
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

/** Drops every connection (keep-alive ones too) and waits for the server to close. */
export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
