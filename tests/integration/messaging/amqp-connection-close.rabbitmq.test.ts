import pino from 'pino';
import { AmqpConnection } from '@infrastructure/messaging/rabbitmq/amqp-connection';
import { eventually } from '../../support/events';
import { describeWhen, REAL_AMQP_URL, REAL_RABBIT_SELECTED } from '../../support/servers';
import { TcpProxy } from '../../support/tcp-proxy';

/**
 * A review of stop 49: amqplib's close() waits for the broker's close-ok, which a stalled link never carries; when the
 * heartbeat then ends the connection the promise stays pending, so the service's shutdown hung (relay, database and
 * cache never closed; exit 1 at the end of the 30 s). close() now ends within its deadline whatever the link does.
 */
describeWhen(REAL_RABBIT_SELECTED, 'RabbitMQ')('AmqpConnection.close() on a link that carries nothing', () => {
  it('resolves within its deadline (and the connection is gone), where it used to wait for ever', async () => {
    const target = new URL(REAL_AMQP_URL);
    const proxy = new TcpProxy(target.hostname, Number(target.port || 5672));
    await proxy.start();
    const connection = new AmqpConnection({ url: proxy.through(REAL_AMQP_URL), heartbeatSeconds: 2, closeDeadlineMs: 1000 }, pino({ level: 'silent' }));
    try {
      connection.start();
      await connection.waitUntilConnected();
      proxy.stall();
      const started = Date.now();
      const closed = await Promise.race([connection.close().then(() => Date.now() - started), new Promise<null>((resolve) => setTimeout(() => resolve(null), 10_000).unref())]);
      expect(closed).not.toBeNull();
      expect(closed!).toBeLessThan(5_000);
      expect(connection.connected).toBe(false);
    } finally {
      proxy.restore();
      await proxy.close();
    }
  }, 30_000);

  it('on a live link: the broker answers, close() resolves at once', async () => {
    const connection = new AmqpConnection({ url: REAL_AMQP_URL }, pino({ level: 'silent' }));
    connection.start();
    await connection.waitUntilConnected();
    const started = Date.now();
    await connection.close();
    expect(Date.now() - started).toBeLessThan(2_500); // not the 3 s close deadline
  }, 30_000);

  /**
   * Stop 55: close() during the first `connect()` (the handshake under way) returned at once, and the connection
   * that completed afterwards was kept by the loop, which saw the close and stopped without ending it: a broker
   * connection held until the process exited. Over a proxy that delays every chunk by 40 ms (a handshake takes
   * about half a second), close() at several moments of it; the proxy must show no connection left.
   */
  it.each([0, 20, 80, 160, 320])('closed %i ms into the handshake: the connection that completes is ended too', async (delayMs) => {
    const target = new URL(REAL_AMQP_URL);
    const proxy = new TcpProxy(target.hostname, Number(target.port || 5672));
    await proxy.start();
    proxy.slow(40);
    try {
      for (let round = 0; round < 3; round += 1) {
        const connection = new AmqpConnection({ url: proxy.through(REAL_AMQP_URL), closeDeadlineMs: 1000 }, pino({ level: 'silent' }));
        connection.start();
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        await connection.close();
        expect(connection.connected).toBe(false);
      }
      let left = -1;
      try {
        await eventually(() => (left = proxy.openConnections) === 0, 3_000);
      } catch {
        // The count itself is the clearer failure.
      }
      expect(left).toBe(0);
    } finally {
      await proxy.close();
    }
  }, 30_000);
});
