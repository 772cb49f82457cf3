import { createServer } from 'node:net';

/**
 * A port free on 127.0.0.1 a moment ago (the kernel's pick for port 0), for a child process to bind. Another
 * process may take it in between, which is why the suites that use it run in the serial group
 * (tests/support/serial-suites.cjs).
 */
export async function freePort(): Promise<number> {
  return new Promise((done, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? done(address.port) : reject(new Error('no port'))));
    });
    server.once('error', reject);
  });
}
