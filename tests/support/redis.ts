import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';

/** The real Redis of the integration and security suites (CI sets REDIS_URL). */
export const REAL_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Synchronous, so that describe.each can select the real server at collection time: a child process pings it.
 * In CI it is always selected, so an unreachable Redis fails its suites instead of vanishing; elsewhere its
 * cases are left out with a warning.
 */
function selectRealRedis(): boolean {
  const probe = `const { createClient } = require(${JSON.stringify(require.resolve('redis'))});
    const c = createClient({ url: process.env.PROBE_URL, socket: { connectTimeout: 3000, reconnectStrategy: false } });
    c.on('error', () => {});
    c.connect().then(() => c.ping()).then(() => c.close()).then(() => process.exit(0), () => process.exit(1));`;
  try {
    execFileSync(process.execPath, ['-e', probe], { env: { ...process.env, PROBE_URL: REAL_REDIS_URL }, stdio: 'ignore', timeout: 10000 });
    return true;
  } catch {
    if (process.env.CI === 'true') return true;
    process.stderr.write(`[tests] Redis at ${REAL_REDIS_URL.replace(/\/\/[^@]*@/, '//***@')} is unreachable: its cases are left out (CI=true fails instead)\n`);
    return false;
  }
}

export const REAL_REDIS_SELECTED: boolean = selectRealRedis();

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
