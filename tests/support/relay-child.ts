/**
 * A relay in its own process, for the crash test: it claims one batch and reports on stdout how far it got,
 * then hangs there until the test kills it (SIGKILL: no cleanup, as a crash).
 *   CRASH_AT=before-publish  claims the rows, prints "claimed <n>", never publishes
 *   CRASH_AT=before-mark     publishes and gets the confirms, prints "confirmed <n>", never marks them
 */
import 'reflect-metadata';
import { OutboxRelay } from '@infrastructure/messaging/outbox-relay';
import { AmqpConnection } from '@infrastructure/messaging/rabbitmq/amqp-connection';
import { brokerUser } from '@infrastructure/messaging/rabbitmq/broker-user';
import { AmqpEventPublisher } from '@infrastructure/messaging/rabbitmq/amqp-event-publisher';
import { createDataSource } from '@infrastructure/persistence/typeorm/data-source';
import { TypeOrmOutboxStore } from '@infrastructure/persistence/typeorm/typeorm-outbox-store';
import { SystemClock } from '@infrastructure/time/system-clock';
import type { EventPublisher } from '@application/ports/event-publisher';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const hang = () => new Promise<never>(() => undefined);

async function main(): Promise<void> {
  const dataSource = createDataSource({ url: process.env.DATABASE_URL!, poolSize: 2 });
  await dataSource.initialize();
  const connection = new AmqpConnection({ url: process.env.AMQP_URL! }, silent);
  const amqp = new AmqpEventPublisher(connection, { exchange: process.env.AMQP_EXCHANGE!, userId: brokerUser(process.env.AMQP_URL!) }, silent);
  connection.start();
  await connection.waitUntilConnected();
  const crashing: EventPublisher = {
    isAvailable: () => amqp.isAvailable(),
    async publish(events) {
      if (process.env.CRASH_AT === 'before-publish') {
        process.stdout.write(`claimed ${events.length}\n`);
        return hang();
      }
      const report = await amqp.publish(events);
      process.stdout.write(`confirmed ${report.confirmed.length}\n`);
      return hang();
    },
  };
  const relay = new OutboxRelay(new TypeOrmOutboxStore(dataSource), crashing, new SystemClock(), silent, { batchSize: Number(process.env.BATCH_SIZE) });
  await relay.relayBatch();
}

main().catch((error: unknown) => {
  process.stderr.write(`relay child failed: ${String(error)}\n`);
  process.exit(1);
});
