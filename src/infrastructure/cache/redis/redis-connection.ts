import { createHash } from 'node:crypto';
import { createClient } from 'redis';
import type { Logger } from '@application/ports/logger';

export type RedisClient = ReturnType<typeof createRedisClient>;

/** A command that takes longer than this fails instead of holding a request. */
const COMMAND_TIMEOUT_MS = 2000;
const CONNECT_TIMEOUT_MS = 5000;

/**
 * The process's one Redis connection (node-redis multiplexes every command over it). Commands fail at once
 * while it is down instead of queueing, so that callers can fall back or answer; it reconnects by itself.
 */
export async function connectRedis(url: string, logger: Logger): Promise<RedisClient> {
  const client = createRedisClient(url);
  let reported = false;
  client.on('error', (error: unknown) => {
    // Reconnection attempts repeat the error; one log line per outage is enough.
    if (!reported) logger.warn({ err: error }, 'redis connection error');
    reported = true;
  });
  client.on('ready', () => {
    if (reported) logger.info({}, 'redis connection restored');
    reported = false;
  });
  try {
    await withTimeout(client.connect(), CONNECT_TIMEOUT_MS * 2);
  } catch (error) {
    client.destroy();
    // The message never carries the URL (it may hold a password).
    throw new Error(`cannot connect to Redis at REDIS_URL: ${error instanceof Error ? error.message : String(error)}`);
  }
  return client;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no connection within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function createRedisClient(url: string) {
  return createClient({
    url,
    disableOfflineQueue: true,
    commandOptions: { timeout: COMMAND_TIMEOUT_MS },
    socket: {
      connectTimeout: CONNECT_TIMEOUT_MS,
      reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000),
    },
  });
}

export async function pingRedis(client: RedisClient): Promise<boolean> {
  try {
    return client.isReady && (await client.ping()) === 'PONG';
  } catch {
    return false;
  }
}

/** A Lua script run by its SHA1 (EVALSHA), loaded on first use or after a server restart (NOSCRIPT). */
export class RedisScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: RedisClient, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await client.evalSha(this.sha, { keys, arguments: args });
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.source, { keys, arguments: args });
    }
  }
}

/** Identifiers (emails, usernames) become digests in keys: no personal data in the cache's key space. */
export function keyDigest(value: string): string {
  return createHash('sha256').update(value).digest('base64url').slice(0, 32);
}
