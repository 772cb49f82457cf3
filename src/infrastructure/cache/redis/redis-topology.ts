import { createClient, createCluster, createSentinel } from 'redis';

/**
 * The node-redis clients of the three REDIS_MODEs and their options (connecting and watching them: redis-connection.ts).
 * Commands fail at once while a client is down (no offline queue) and after COMMAND_TIMEOUT_MS; every node's
 * connection retries per the same strategy.
 */

/** One server (node-redis createClient): what REDIS_URL has always meant. */
export type StandaloneRedisClient = ReturnType<typeof createRedisClient>;
/** The commands the adapters use exist on all three; a Cluster routes each by its (first) key. */
export type RedisClient = StandaloneRedisClient | ReturnType<typeof createRedisCluster> | ReturnType<typeof createRedisSentinel>;

/**
 * REDIS_MODE: `standalone` (REDIS_URL = one server), `cluster` (REDIS_URL = comma-separated seed nodes of a Redis
 * Cluster; their credentials and TLS apply to every node discovered), `sentinel` (REDIS_URL = comma-separated
 * Sentinels; the credentials in the URLs are the data nodes', REDIS_SENTINEL_PASSWORD the Sentinels' own).
 */
export interface RedisTopology {
  mode: 'standalone' | 'cluster' | 'sentinel';
  sentinelMaster?: string | null;
  sentinelPassword?: string | null;
}

/** A command that takes longer than this fails instead of holding a request (see withCommandDeadline). */
export const COMMAND_TIMEOUT_MS = 2000;
/** A connection attempt that takes longer than this fails (and is retried per the reconnect strategy). */
export const CONNECT_TIMEOUT_MS = 5000;

/** The node-redis client REDIS_MODE names, not yet connected. */
export function createTopologyClient(url: string, topology: RedisTopology): RedisClient {
  if (topology.mode === 'standalone') return createRedisClient(url);
  const urls = url.split(',').map((u) => u.trim()).filter((u) => u.length > 0);
  if (topology.mode === 'cluster') return createRedisCluster(urls);
  if (!topology.sentinelMaster) throw new Error('REDIS_SENTINEL_MASTER is required with REDIS_MODE=sentinel');
  return createRedisSentinel(urls, topology.sentinelMaster, topology.sentinelPassword ?? null);
}

export function isCluster(client: RedisClient): client is ReturnType<typeof createRedisCluster> {
  return 'getMasters' in client;
}

function createRedisClient(url: string) {
  return createClient({ url, ...NODE_OPTIONS, socket: SOCKET });
}

const NODE_OPTIONS = { disableOfflineQueue: true, commandOptions: { timeout: COMMAND_TIMEOUT_MS } };
const SOCKET = {
  connectTimeout: CONNECT_TIMEOUT_MS,
  reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000),
};

/** Credentials and TLS from a node URL, for the connections node-redis opens to nodes it discovers. */
function nodeAccess(url: string): { username?: string; password?: string; tls: boolean } {
  const parsed = new URL(url);
  return {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    tls: parsed.protocol === 'rediss:',
  };
}

function createRedisCluster(urls: string[]) {
  const { tls, ...credentials } = nodeAccess(urls[0]!);
  return createCluster({
    rootNodes: urls.map((url) => ({ url })),
    defaults: { ...credentials, ...NODE_OPTIONS, socket: tls ? { ...SOCKET, tls: true } : SOCKET },
  });
}

function createRedisSentinel(urls: string[], master: string, sentinelPassword: string | null) {
  const { tls, ...credentials } = nodeAccess(urls[0]!);
  return createSentinel({
    name: master,
    sentinelRootNodes: urls.map((url) => {
      const parsed = new URL(url);
      return { host: parsed.hostname, port: Number(parsed.port || 26379) };
    }),
    nodeClientOptions: { ...credentials, ...NODE_OPTIONS, socket: tls ? { ...SOCKET, tls: true } : SOCKET },
    sentinelClientOptions: { ...(sentinelPassword ? { password: sentinelPassword } : {}), socket: tls ? { ...SOCKET, tls: true } : SOCKET },
  });
}
