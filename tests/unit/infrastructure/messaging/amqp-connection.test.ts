import { createServer, type Server, type Socket } from 'node:net';
import pino from 'pino';
import { AmqpConnection } from '@infrastructure/messaging/rabbitmq/amqp-connection';
import { freePort } from '../../../support/ports';

/**
 * A review (2026-12-08): close() during a connect attempt woke no one (nothing slept yet); when the attempt then
 * failed, the loop slept its whole backoff (up to 10 s) before it saw the close. Two such connections and the
 * service's shutdown came near its 30-s limit with the broker away. close() must not wait out a backoff.
 */
describe('AmqpConnection.close() during a connect attempt', () => {
  // A backoff (drawn from 4-8 s) that waiting it out cannot pass for a prompt close.
  const BACKOFF_MS = 8_000;
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise<void>((done) => server.close(() => done()))));
  });

  async function closedWithin(url: string): Promise<number> {
    const connection = new AmqpConnection({ url, minBackoffMs: BACKOFF_MS, maxBackoffMs: BACKOFF_MS }, pino({ level: 'silent' }));
    connection.start();
    // The attempt is under way (start() opened the socket): nothing sleeps yet.
    const begun = Date.now();
    await connection.close();
    expect(connection.connected).toBe(false);
    return Date.now() - begun;
  }

  it('a broker address that accepts, then hangs up: close() returns once the attempt fails, not after the backoff', async () => {
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      sockets.push(socket);
      setTimeout(() => socket.destroy(), 100);
    });
    servers.push(server);
    const port = await freePort();
    await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
    expect(await closedWithin(`amqp://guest:guest@127.0.0.1:${port}`)).toBeLessThan(3_500); // the backoff is at least 4 s
    expect(sockets).toHaveLength(1);
  }, 20_000);

  it('a broker address that refuses: close() returns at once', async () => {
    const port = await freePort();
    expect(await closedWithin(`amqp://guest:guest@127.0.0.1:${port}`)).toBeLessThan(3_500); // the backoff is at least 4 s
  }, 20_000);
});
