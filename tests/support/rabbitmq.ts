import { randomBytes } from 'node:crypto';
import { connect, type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import type { IntegrationEvent } from '@application/ports/event-publisher';
import { selectRealServer } from './server-selection';

/** The real broker of the integration suites (CI sets AMQP_URL). */
export const REAL_AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** Exchange and queue names no other run (or parallel CI job) shares. */
export function uniqueNames(): { exchange: string; queuePrefix: string } {
  const run = randomBytes(5).toString('hex');
  return { exchange: `test.auth.events.${run}`, queuePrefix: `test-${run}.` };
}

export interface Received {
  event: IntegrationEvent;
  message: ConsumeMessage;
}

/**
 * A plain consumer of the test: its own exclusive queue bound to `exchange`, everything it receives kept in
 * order. `deleteExchange` and the queues named by the prefix are removed by `cleanup()`.
 */
export class TestConsumer {
  readonly received: Received[] = [];
  private constructor(
    private readonly model: ChannelModel,
    readonly channel: Channel,
  ) {}

  static async start(exchange: string, pattern = '#'): Promise<TestConsumer> {
    const model = await connect(REAL_AMQP_URL);
    model.on('error', () => undefined); // a lost connection shows as missing events, with a clearer message
    const channel = await model.createChannel();
    await channel.assertExchange(exchange, 'topic', { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    await channel.bindQueue(queue, exchange, pattern);
    const consumer = new TestConsumer(model, channel);
    await channel.consume(queue, (message) => {
      if (!message) return;
      consumer.received.push({ event: JSON.parse(message.content.toString('utf8')) as IntegrationEvent, message });
      channel.ack(message);
    });
    return consumer;
  }

  ids(): string[] {
    return this.received.map((r) => r.event.id);
  }

  ofType(type: string): Received[] {
    return this.received.filter((r) => r.event.type === type);
  }

  async close(): Promise<void> {
    await this.model.close().catch(() => undefined);
  }
}

/** Deletes the exchange and the named queues (each subscriber's queue, retry and dead-letter queues). */
export async function cleanupBroker(exchange: string, queues: string[]): Promise<void> {
  const model = await connect(REAL_AMQP_URL);
  const channel = await model.createChannel();
  for (const queue of queues) await channel.deleteQueue(queue);
  await channel.deleteExchange(exchange);
  await model.close();
}


export const REAL_RABBIT_SELECTED: boolean = selectRealServer('RabbitMQ', REAL_AMQP_URL, `require(${JSON.stringify(require.resolve('amqplib'))}).connect(process.env.PROBE_URL, { timeout: 3000 })
    .then((m) => m.close()).then(() => process.exit(0), () => process.exit(1));`);
