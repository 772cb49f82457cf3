import { connect as tcpConnect, createServer, type Server, type Socket } from 'node:net';
import pino from 'pino';
import { AmqpConnection } from '@infrastructure/messaging/rabbitmq/amqp-connection';
import { describeWhen, REAL_AMQP_URL, REAL_RABBIT_SELECTED } from '../../support/servers';
import { freePort } from '../../support/ports';

/**
 * A review of stop 52: a broker (or a load balancer in front of it) that completes the handshake and then drops the
 * connection made the connection reconnect at once, every time (its backoff was reset by every successful connect),
 * and each reconnect woke the outbox relay. The backoff is now reset only by a connection that lasted
 * (stableAfterMs); one lost sooner waits the next, longer, backoff.
 */
describeWhen(REAL_RABBIT_SELECTED, 'RabbitMQ')('AmqpConnection against a peer that drops every connection after 400 ms', () => {
  it('backs off between short-lived connections instead of reconnecting at once (a few in 6 s, not ~15)', async () => {
    const target = new URL(REAL_AMQP_URL);
    const sockets = new Set<Socket>();
    let accepted = 0;
    let readies = 0;
    const forwarder: Server = createServer((client) => {
      accepted += 1;
      const upstream = tcpConnect(Number(target.port || 5672), target.hostname);
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      setTimeout(drop, 400).unref();
    });
    const port = await freePort();
    await new Promise<void>((resolve) => forwarder.listen(port, '127.0.0.1', resolve));
    const url = new URL(REAL_AMQP_URL);
    url.hostname = '127.0.0.1';
    url.port = String(port);
    const connection = new AmqpConnection({ url: url.toString(), minBackoffMs: 200, maxBackoffMs: 10_000, closeDeadlineMs: 500 }, pino({ level: 'silent' }));
    connection.onReady(() => (readies += 1));
    try {
      connection.start();
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      // 400 ms up, then 200, 400, 800, 1600, 3200 ms waits: 5 connections in 6 s (at once after each drop: ~15).
      expect(readies).toBeGreaterThanOrEqual(2);
      expect(accepted).toBeLessThanOrEqual(7);
    } finally {
      await connection.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => forwarder.close(() => resolve()));
    }
  }, 30_000);
});
