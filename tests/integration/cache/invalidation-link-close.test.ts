import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { createClient } from 'redis';
import { RedisInvalidationLink } from '@infrastructure/cache/redis/redis-invalidation-link';
import type { RedisClient } from '@infrastructure/cache/redis/redis-connection';
import { eventually } from '../../support/events';
import { describeWhen, REAL_REDIS_SELECTED, REAL_REDIS_URL, uniqueKeyPrefix } from '../../support/servers';

const silent = pino({ level: 'silent' });
const ROUNDS = 20;

/**
 * Stop 55: a link closed while its subscriber connection was still connecting left that connection open for good
 * (node-redis finishes a connect that `destroy()` raced, and the link then skipped the cleanup because the client no
 * longer said `isOpen`). Seen as a Redis socket that kept a jest worker alive after
 * owed-revocations-in-flight.test.ts (1 run in 3); in the service it is a connection held until the process exits,
 * and in anything that starts and closes the cache in process (the tests, an embedding), one per such close.
 * Counted on the server: every connection of the link's client carries a name of this test's own (CLIENT SETNAME
 * is kept by duplicate()), and CLIENT LIST must show none once everything is closed.
 */
describeWhen(REAL_REDIS_SELECTED, 'Redis')('closing the invalidation link while its subscriber connects', () => {
  const admin = createClient({ url: REAL_REDIS_URL });
  admin.on('error', () => undefined);

  beforeAll(async () => {
    await admin.connect();
  });
  afterAll(async () => {
    await admin.close();
  });

  async function connectionsNamed(name: string): Promise<number> {
    const list = await admin.sendCommand<string>(['CLIENT', 'LIST']);
    return list.split('\n').filter((line) => line.includes(` name=${name} `)).length;
  }

  async function closeWhile(moment: 'connecting' | 'subscribing' | 'subscribed', name: string): Promise<void> {
    const client = createClient({ url: REAL_REDIS_URL, name }) as unknown as RedisClient;
    client.on('error', () => undefined);
    await client.connect();
    const link = new RedisInvalidationLink(client, uniqueKeyPrefix(), silent, { heartbeatMs: 50, silenceMs: 600, maxTransitMs: 100 });
    link.start();
    if (moment === 'subscribing') await new Promise((resolve) => setImmediate(resolve));
    if (moment === 'subscribed') await eventually(() => link.trusted(), 5_000, 'the link trusted');
    await link.close();
    await client.close();
  }

  it.each(['connecting', 'subscribing', 'subscribed'] as const)(
    `closed while %s: no connection of it is left on the server (${ROUNDS} rounds)`,
    async (moment) => {
      const names = Array.from({ length: ROUNDS }, () => `link-close-${randomBytes(6).toString('hex')}`);
      for (const name of names) await closeWhile(moment, name);
      let left = -1;
      try {
        await eventually(async () => {
          left = 0;
          for (const name of names) left += await connectionsNamed(name);
          return left === 0;
        }, 3_000);
      } catch {
        // The count itself is the clearer failure.
      }
      expect(left).toBe(0);
    },
    60_000,
  );
});
