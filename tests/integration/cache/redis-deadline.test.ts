import { createClient } from 'redis';
import { RedisStallError, withCommandDeadline } from '@infrastructure/cache/redis/redis-deadline';
import { describeWhen, REAL_REDIS_SELECTED, REAL_REDIS_URL } from '../../support/servers';
import { TcpProxy } from '../../support/tcp-proxy';

const DEADLINE_MS = 300;

/**
 * node-redis's command timeout ends once a command is written, so a stalled link (packets dropped, nothing reset)
 * held a command for ever; withCommandDeadline bounds every command, MULTI's exec included.
 */
describeWhen(REAL_REDIS_SELECTED, 'Redis')('Redis commands under a deadline', () => {
  let proxy: TcpProxy;
  beforeEach(async () => {
    const target = new URL(REAL_REDIS_URL);
    proxy = new TcpProxy(target.hostname, Number(target.port || 6379));
    await proxy.start();
  });
  afterEach(async () => proxy.close());

  async function stalledClient() {
    const raw = createClient({ url: proxy.through(REAL_REDIS_URL), disableOfflineQueue: true, commandOptions: { timeout: DEADLINE_MS } });
    raw.on('error', () => undefined);
    await raw.connect();
    const stalls: number[] = [];
    const client = withCommandDeadline(raw, DEADLINE_MS, { stalled: () => stalls.push(Date.now()) });
    return { raw, client, stalls };
  }

  it('a stalled command, a script and a MULTI fail within the deadline and report the stall; answered ones are untouched', async () => {
    const { raw, client, stalls } = await stalledClient();
    try {
      await expect(client.ping()).resolves.toBe('PONG');
      await expect(client.multi().ping().ping().exec()).resolves.toEqual(['PONG', 'PONG']);
      expect(stalls).toEqual([]);

      proxy.stall();
      const started = Date.now();
      const outcomes = await Promise.allSettled([
        client.ping(),
        client.eval('return 1', { keys: [], arguments: [] }),
        client.multi().incr('deadline-test').pExpire('deadline-test', 1000).exec(),
      ]);
      const elapsed = Date.now() - started;
      expect(outcomes.map((o) => (o.status === 'rejected' ? (o.reason as Error).name : 'answered'))).toEqual(Array(3).fill(RedisStallError.name));
      expect(elapsed).toBeGreaterThanOrEqual(DEADLINE_MS - 20);
      expect(elapsed).toBeLessThan(DEADLINE_MS + 1500);
      expect(stalls).toHaveLength(3);
      // Without the wrapper the same command waits: node-redis's own timeout is over once the command is written.
      const bare = await Promise.race([raw.ping().then(() => 'answered', () => 'failed'), new Promise((r) => setTimeout(() => r('still waiting'), DEADLINE_MS * 3))]);
      expect(bare).toBe('still waiting');
    } finally {
      raw.destroy();
    }
  });
  it('close() on a stalled link gives up waiting for the replies due after the deadline, and destroys the connection', async () => {
    const { raw, client } = await stalledClient();
    await expect(client.ping()).resolves.toBe('PONG');
    proxy.stall();
    const pending = client.ping().catch(() => 'failed');
    const started = Date.now();
    // A graceful close waits for every reply due: on a link that dropped them, for good, without the bound.
    await client.close();
    expect(Date.now() - started).toBeLessThan(DEADLINE_MS + 1500);
    expect(raw.isOpen).toBe(false);
    await expect(pending).resolves.toBe('failed');
  });
});
