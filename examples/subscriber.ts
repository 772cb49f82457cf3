/**
 * A standalone consumer of auth-service events, for other teams: it needs amqplib and nothing else from this
 * repository. It binds `auth.user.*` on the `auth.events` topic exchange and prints every event it receives.
 *
 *   npm run example:subscriber                       # amqp://guest:guest@127.0.0.1:5672
 *   AMQP_URL=amqp://user:pass@rabbit:5672 QUEUE=billing.auth-users npm run example:subscriber
 *
 * AMQP_URL, AMQP_EXCHANGE (auth.events), PATTERN (auth.user.*), QUEUE (unset: a throw-away exclusive queue;
 * set: a durable queue that keeps events while this consumer is down), EXIT_AFTER (stop after n events),
 * TRUSTED_PUBLISHER (the broker user auth-service logs in as: events whose `user_id`, which RabbitMQ checks
 * against the publisher's login, names anyone else are dropped; unset: every event is printed).
 *
 * What a real subscriber adds: events arrive at least once, so de-duplicate by `id` in your own database, in
 * the transaction of your own writes; ack only after that commit; and a dead-letter queue for events you
 * cannot process (see docs/events.md).
 */
import { connect, type ConsumeMessage } from 'amqplib';

interface CloudEvent {
  specversion: string;
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  data: Record<string, unknown>;
}

const url = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const exchange = process.env.AMQP_EXCHANGE ?? 'auth.events';
const pattern = process.env.PATTERN ?? 'auth.user.*';
const exitAfter = Number(process.env.EXIT_AFTER ?? 0);
const trustedPublisher = process.env.TRUSTED_PUBLISHER;

async function main(): Promise<void> {
  const connection = await connect(url);
  const channel = await connection.createChannel();
  await channel.assertExchange(exchange, 'topic', { durable: true });
  const { queue } = process.env.QUEUE
    ? await channel.assertQueue(process.env.QUEUE, { durable: true })
    : await channel.assertQueue('', { exclusive: true, autoDelete: true });
  await channel.bindQueue(queue, exchange, pattern);
  await channel.prefetch(10);

  const seen = new Set<string>(); // in memory for the example; keep processed ids in your database
  let printed = 0;
  const stop = async (code: number) => {
    await connection.close().catch(() => undefined);
    process.exit(code);
  };

  await channel.consume(queue, (message: ConsumeMessage | null) => {
    if (!message) return void stop(1); // the broker cancelled the consumer (queue deleted)
    if (trustedPublisher !== undefined && message.properties.userId !== trustedPublisher) {
      // Published by someone else with access to the exchange (or with no user id at all): not auth-service's.
      process.stderr.write(`dropped an event not published by ${trustedPublisher}\n`);
      channel.nack(message, false, false);
      return;
    }
    let event: CloudEvent;
    try {
      event = JSON.parse(message.content.toString('utf8')) as CloudEvent;
    } catch {
      channel.nack(message, false, false); // not JSON: drop it (or dead-letter it) instead of redelivering forever
      return;
    }
    if (!seen.has(event.id)) {
      seen.add(event.id);
      process.stdout.write(`${event.time} ${event.type} subject=${event.subject} id=${event.id}\n  data ${JSON.stringify(event.data)}\n`);
      printed += 1;
    }
    channel.ack(message);
    if (exitAfter > 0 && printed >= exitAfter) void stop(0);
  });
  process.stdout.write(`listening on ${exchange} for ${pattern} (queue ${queue}); Ctrl-C to stop\n`);
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
}

main().catch((error: unknown) => {
  process.stderr.write(`subscriber failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
