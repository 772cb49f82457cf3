import { createServer, connect, type Server, type Socket } from 'node:net';
import pino from 'pino';
import type { DataSource } from 'typeorm';
import { loadConfig } from '@config/env';
import { startMessaging, type Messaging } from '@config/messaging';
import { eventually } from '../../support/events';
import { REAL_POSTGRES_SELECTED, describeWhen, REAL_AMQP_URL, REAL_RABBIT_SELECTED, TestConsumer, cleanupBroker, uniqueNames, commitEvents, createScratchSchema, type ScratchSchema } from '../../support/servers';

/**
 * A forwarder to RabbitMQ the test can cut (open connections destroyed, new ones reset at once: a broker that went
 * away) and restore. It keeps its port while cut, so nothing else can take it meanwhile.
 */
class Forwarder {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private cutOff = false;
  port = 0;

  constructor(private readonly target: URL) {}

  /** On a port the kernel hands out (listen(0)): kept while cut, never bound again. */
  async start(): Promise<void> {
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as { port: number }).port;
  }

  url(): string {
    const url = new URL(REAL_AMQP_URL);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  cut(): void {
    this.cutOff = true;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  restore(): void {
    this.cutOff = false;
  }

  async close(): Promise<void> {
    this.cut();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.cutOff) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(Number(this.target.port || 5672), this.target.hostname);
    this.sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

/**
 * A review of stop 51: after a RabbitMQ outage the first events (a logout's auth.session.revoked among them) waited
 * 13-23 s though /health/ready already said broker: up. The relay had backed off while the broker was away, nothing
 * woke it when the connection came back, and the commit's poke is ignored while backing off. Through the real wiring
 * (startMessaging): the relay's backoff is set long (4-8 s) so that the old behaviour shows within one round.
 */
describeWhen(REAL_POSTGRES_SELECTED && REAL_RABBIT_SELECTED, 'the real PostgreSQL and RabbitMQ')('outbox relay after a broker outage', () => {
  let db: ScratchSchema;
  let dataSource: DataSource;
  let consumer: TestConsumer;
  let forwarder: Forwarder;
  let messaging: Messaging | null = null;
  const { exchange, queuePrefix } = uniqueNames();
  const logs: { msg?: string; retry_in_ms?: number }[] = [];

  beforeAll(async () => {
    db = await createScratchSchema();
    dataSource = await db.open();
    consumer = await TestConsumer.start(exchange);
    forwarder = new Forwarder(new URL(REAL_AMQP_URL));
    await forwarder.start();
  }, 60_000);

  afterAll(async () => {
    await messaging?.close();
    await forwarder.close();
    await consumer.close();
    await cleanupBroker(exchange, []);
    await dataSource.destroy();
    await db.drop();
  }, 30_000);

  it('the broker back wakes the relay at once: an event committed during the outage arrives within 1 s of broker: up', async () => {
    const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as { msg?: string }) });
    const config = loadConfig({ AMQP_URL: forwarder.url(), AMQP_EXCHANGE: exchange, AMQP_QUEUE_PREFIX: queuePrefix });
    // No polls (only pokes and wakes run rounds), and every relay backoff 4-8 s: the remaining wait is what shows.
    messaging = startMessaging(config, logger, dataSource, { pollIntervalMs: 60_000, minBackoffMs: 8000, maxBackoffMs: 8000 });
    const m = messaging;
    const arrived = (id: string) => () => consumer.ids().includes(id);

    await eventually(() => m.broker() === 'up', 10_000, 'the first connection');
    const [first] = await commitEvents(dataSource, 1, 'auth.session.revoked');
    m.relay.poke();
    await eventually(arrived(first!), 15_000, 'the event before the outage');

    forwarder.cut();
    await eventually(() => m.broker() === 'down', 10_000, 'the broker seen down');
    const [revoked] = await commitEvents(dataSource, 1, 'auth.session.revoked');
    m.relay.poke(); // as a logout's commit does: the relay finds the broker away and backs off
    await eventually(() => logs.some((l) => l.msg === 'outbox relay: cannot publish; backing off'), 5_000, 'the relay backing off');
    const backoff = logs.find((l) => l.msg === 'outbox relay: cannot publish; backing off')!;
    expect(backoff.retry_in_ms).toBeGreaterThanOrEqual(4000);

    forwarder.restore();
    await eventually(() => m.broker() === 'up', 10_000, 'the broker back');
    const up = Date.now();
    m.relay.poke(); // a commit meanwhile: the old relay ignored it as well
    await eventually(arrived(revoked!), 15_000, 'the event committed during the outage');
    const waitedMs = Date.now() - up;
    expect(waitedMs).toBeLessThan(1000);
  }, 60_000);
});
