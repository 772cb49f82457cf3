import { execFileSync } from 'node:child_process';
import { get } from 'node:http';
import { randomBytes } from 'node:crypto';
import { call, MODES, startServiceProcess, type ServiceProcess } from '../support/app';
import { eventually } from '../support/events';
import {
  cleanupBroker, createScratchDatabase, describeWhen, dropKeyPrefix, REAL_AMQP_URL, REAL_RABBIT_SELECTED, REAL_REDIS_URL, TestConsumer, uniqueKeyPrefix, uniqueNames,
} from '../support/servers';

const PASSWORD = 'correct horse battery staple';

/** The primary's worker processes (their pids), read from the process table. */
function workersOf(primary: ServiceProcess): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(primary.child.pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

/**
 * GET on a new connection each time: a kept-alive connection (fetch's pool) may belong to the worker that was just
 * killed, which says nothing about the service.
 */
function status(base: string, path: string): Promise<number> {
  return new Promise((resolve) => {
    get(`${base}${path}`, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', () => resolve(0));
  });
}

/** WORKERS=2 (node:cluster) on the real PostgreSQL, Redis and RabbitMQ: one process tree, one port, events once. */
describeWhen(MODES.includes('servers') && REAL_RABBIT_SELECTED, 'the real PostgreSQL, Redis and RabbitMQ')('WORKERS=2', () => {
  let service: ServiceProcess | undefined;
  let consumer: TestConsumer | undefined;
  let drop: (() => Promise<void>) | undefined;
  const prefix = uniqueKeyPrefix();
  const { exchange, queuePrefix } = uniqueNames();

  beforeAll(async () => {
    const scratch = await createScratchDatabase();
    drop = scratch.drop;
    consumer = await TestConsumer.start(exchange, 'auth.user.registered');
    service = await startServiceProcess({
      WORKERS: '2', DATABASE_URL: scratch.url, REDIS_URL: REAL_REDIS_URL, REDIS_KEY_PREFIX: prefix, AMQP_URL: REAL_AMQP_URL,
      AMQP_EXCHANGE: exchange, AMQP_QUEUE_PREFIX: queuePrefix, ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      APP_PUBLIC_URL: 'https://auth.example.com', REQUIRE_EMAIL_VERIFICATION: 'false', MIGRATE_ON_START: 'true',
      RATE_LIMIT_REGISTER_IP: 'off', RATE_LIMIT_REGISTER_ID: 'off',
    });
  }, 120_000);
  afterAll(async () => {
    await service?.stop();
    await consumer?.close();
    await cleanupBroker(exchange, ['security-notices'].flatMap((name) => [`${queuePrefix}${name}`, `${queuePrefix}${name}.retry`, `${queuePrefix}${name}.dlq`]));
    await drop?.();
    await dropKeyPrefix(prefix);
  });

  it('two workers serve one port; each event is published once across their relays', async () => {
    await eventually(() => workersOf(service!).length === 2, 30_000, 'two workers');
    const emails = Array.from({ length: 12 }, (_, i) => `worker-${i}@example.com`);
    const statuses = await Promise.all(emails.map((email) => call(service!.base, '/api/v1/auth/register', { body: { email, password: PASSWORD } }).then((r) => r.status)));
    expect(statuses).toEqual(emails.map(() => 201));
    await eventually(() => consumer!.ofType('auth.user.registered').length >= emails.length, 15_000, 'the events');
    await new Promise((r) => setTimeout(r, 1000)); // a duplicate from the other worker's relay would arrive by now
    const ids = consumer!.ofType('auth.user.registered').map((r) => r.event.id);
    expect(ids).toHaveLength(emails.length);
    expect(new Set(ids).size).toBe(emails.length);
  }, 60_000);

  it('a worker that dies is replaced, and the service keeps answering meanwhile', async () => {
    const [victim, survivor] = workersOf(service!);
    process.kill(victim!, 'SIGKILL');
    // Once the primary has reaped it (connections it held are lost, as in any crash), the survivor answers
    // everything until the replacement (1 s later) is up.
    await eventually(() => !workersOf(service!).includes(victim!), 10_000, 'the dead worker reaped');
    for (let i = 0; i < 5; i += 1) expect(await status(service!.base, '/health/live')).toBe(200);
    await eventually(() => workersOf(service!).length === 2, 30_000, 'a replacement worker');
    expect(workersOf(service!)).toContain(survivor);
    await eventually(async () => (await status(service!.base, '/health/ready')) === 200, 30_000, 'ready');
  }, 60_000);

  it('SIGTERM stops every worker and the primary exits cleanly', async () => {
    const workers = workersOf(service!);
    expect(workers).toHaveLength(2);
    await service!.stop();
    expect(service!.child.exitCode).toBe(0);
    const alive = workers.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    expect(alive).toEqual([]);
    service = undefined;
  }, 60_000);
});
