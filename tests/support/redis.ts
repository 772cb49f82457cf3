import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { selectRealServer } from './server-selection';

/** The real Redis of the integration and security suites (CI sets REDIS_URL). */
export const REAL_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';


export const REAL_REDIS_SELECTED: boolean = selectRealServer('Redis', REAL_REDIS_URL, `const { createClient } = require(${JSON.stringify(require.resolve('redis'))});
    const c = createClient({ url: process.env.PROBE_URL, socket: { connectTimeout: 3000, reconnectStrategy: false } });
    c.on('error', () => {});
    c.connect().then(() => c.ping()).then(() => c.close()).then(() => process.exit(0), () => process.exit(1));`);

/** A key prefix no other run shares; every key a test writes starts with it. */
export function uniqueKeyPrefix(): string {
  return `test:${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key under `prefix` (SCAN, never KEYS). */
export async function dropKeyPrefix(prefix: string): Promise<void> {
  const client = createClient({ url: REAL_REDIS_URL });
  client.on('error', () => undefined);
  await client.connect();
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      if (keys.length > 0) await client.del(keys);
    }
  } finally {
    await client.close();
  }
}
