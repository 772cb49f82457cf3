import { createHash } from 'node:crypto';
import { createClient, createCluster, createSentinel, ErrorReply } from 'redis';
import type { Logger } from '@application/ports/logger';
import { withCommandDeadline } from './redis-deadline';

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
const CONNECT_TIMEOUT_MS = 5000;
/** Between attempts to reconnect after a stall, while the server does not answer. */
const RECONNECT_PAUSE_MS = 1000;

/**
 * The process's one Redis connection (node-redis multiplexes every command over it; a Cluster keeps one per
 * node). Commands fail at once while it is down instead of queueing, so that callers can fall back or answer;
 * it reconnects by itself.
 */
export async function connectRedis(
  url: string,
  logger: Logger,
  topology: RedisTopology = { mode: 'standalone' },
  /** Told when a command got no answer within COMMAND_TIMEOUT_MS (e.g. to distrust caches kept in step through Redis). */
  onStall: () => void = () => undefined,
  /**
   * `require` (the default; the CLI, Cluster and Sentinel): no connection within 10 s is an error. `degrade` (the
   * service, standalone only): a server that cannot be reached returns the client unconnected, still connecting in
   * the background, so that the instance starts and serves degraded as in any outage (see startCache); a server
   * that answers and refuses (a wrong password, an ACL) still fails the start.
   */
  atStart: 'require' | 'degrade' = 'require',
): Promise<RedisClient> {
  const client = createTopologyClient(url, topology);
  let reported = false;
  let closed = false;
  watchRedis(client, {
    // Reconnection attempts repeat the error; one log line per outage is enough. Closing ends the connection too.
    down: (error) => {
      if (!reported && !closed) logger.warn({ err: error }, 'redis connection error');
      reported = true;
    },
    up: () => {
      if (reported) logger.info({}, 'redis connection restored');
      reported = false;
    },
  });
  const connecting = client.connect() as Promise<unknown>;
  // Settled only by success or by the client being closed (below); never an unhandled rejection.
  connecting.catch(() => undefined);
  try {
    if (atStart === 'degrade' && topology.mode === 'standalone') {
      // A first connection that fails is retried by node-redis (@redis/client 6) per reconnectStrategy, forever
      // with ours: connect() stays pending until Redis answers. Until stop 51 the start waited 10 s for it and
      // exited, and during an outage no new instance could start (rolling update, scale-up, a crashed pod).
      if (!(await firstOutcome(connecting, client, CONNECT_TIMEOUT_MS * 2))) {
        // The client is not ready: every command fails at once (disableOfflineQueue) and callers fall back.
        logger.warn({}, 'redis unreachable at start: serving degraded without it, connecting in the background');
      }
    } else {
      await withTimeout<unknown>(connecting, CONNECT_TIMEOUT_MS * 2);
    }
  } catch (error) {
    void Promise.resolve(client.destroy()).catch(() => undefined);
    // The message never carries the URL (it may hold a password).
    throw new Error(`cannot connect to Redis at REDIS_URL: ${error instanceof Error ? error.message : String(error)}`);
  }
  // Closed while the first connection was still being attempted: one that completes after is ended at once.
  client.on('ready', () => {
    if (closed) (client as { destroy(): unknown }).destroy();
  });
  let restarting = false;
  // A stalled connection is dropped, which fails every command still waiting on it, and opened again; meanwhile
  // commands fail at once (disableOfflineQueue) and callers fall back as in any outage.
  const restart = () => {
    onStall();
    if (restarting || closed) return;
    restarting = true;
    logger.warn({ timeoutMs: COMMAND_TIMEOUT_MS }, 'redis: a command got no answer in time; reconnecting');
    const attempt = () => {
      if (closed) return;
      try {
        (client as { destroy(): unknown }).destroy();
      } catch {
        // Already closed.
      }
      withTimeout<unknown>(client.connect(), CONNECT_TIMEOUT_MS * 2).then(
        () => {
          restarting = false;
        },
        () => setTimeout(attempt, RECONNECT_PAUSE_MS).unref(),
      );
    };
    attempt();
  };
  return withCommandDeadline(client as RedisClient, COMMAND_TIMEOUT_MS, { stalled: restart, closing: () => (closed = true) });
}

/**
 * Outage and recovery, the same for the three client kinds. A standalone client and a Sentinel client emit
 * `error` and `ready`. A Cluster reports each node's (`node-error`, `node-ready`) and has no cluster-wide
 * `ready`: it is down from any node's (or its own) error, and up again only when every node that failed is ready
 * again (and the cluster connected again after an error of its own).
 */
export function watchRedis(client: RedisClient, on: { down(error: unknown): void; up(): void }): void {
  if (!isCluster(client)) {
    const single = client as StandaloneRedisClient;
    single.on('error', (error: unknown) => on.down(error));
    // A Sentinel client reports its master connection's failures as `client-error`, not `error`; and a master
    // that dies without a word (no reset: commands just go unanswered) shows only when withCommandDeadline's
    // restart ends the connection (`end`) or the Sentinel moves the client to another master (`reconnecting`).
    // Either way the client is down until `ready` (the Sentinel failover test, 2026-12-03: a promoted replica's
    // entries were served between the failover and `ready`).
    single.on('client-error', (event: { type?: string; error?: unknown } | undefined) => {
      if (event?.type === 'MASTER') on.down(event.error);
    });
    single.on('reconnecting', () => on.down(new Error('redis: reconnecting')));
    single.on('end', () => on.down(new Error('redis: connection ended')));
    single.on('ready', () => on.up());
    return;
  }
  const failing = new Set<string>();
  const nodeId = (info: unknown) => {
    const node = info as { host?: string; port?: number } | undefined;
    return `${node?.host ?? '?'}:${node?.port ?? '?'}`;
  };
  // A cluster-wide error (topology discovery) counts as a failing member until the cluster connects again.
  client.on('error', (error: unknown) => {
    failing.add('cluster');
    on.down(error);
  });
  client.on('connect', () => {
    if (failing.delete('cluster') && failing.size === 0) on.up();
  });
  client.on('node-error', (error: unknown, info: unknown) => {
    failing.add(nodeId(info));
    on.down(error);
  });
  client.on('node-ready', (info: unknown) => {
    if (!failing.delete(nodeId(info)) || failing.size > 0) return;
    on.up();
  });
}

function isCluster(client: RedisClient): client is ReturnType<typeof createRedisCluster> {
  return 'getMasters' in client;
}

function createTopologyClient(url: string, topology: RedisTopology): RedisClient {
  if (topology.mode === 'standalone') return createRedisClient(url);
  const urls = url.split(',').map((u) => u.trim()).filter((u) => u.length > 0);
  if (topology.mode === 'cluster') return createRedisCluster(urls);
  if (!topology.sentinelMaster) throw new Error('REDIS_SENTINEL_MASTER is required with REDIS_MODE=sentinel');
  return createRedisSentinel(urls, topology.sentinelMaster, topology.sentinelPassword ?? null);
}

/**
 * A reply that says the configuration is wrong (the credentials, an ACL), which retrying will not cure. Any other
 * error reply at connect is an overload or a transient state (`ERR max number of clients reached`, `LOADING`, `BUSY`)
 * and counts as "cannot be reached": until the third review of stop 51 every error reply failed the start, and a
 * Redis at maxclients kept new instances from starting again.
 */
const MISCONFIGURED = /^(WRONGPASS|NOAUTH|NOPERM)\b|^ERR (invalid (username|password)|AUTH\b|Client sent AUTH)/;

/**
 * true once `connecting` succeeds; false at the first connection error (the server cannot be reached, or answered
 * with a transient error) or after `ms`; throws when the server answered that the configuration is wrong
 * (MISCONFIGURED: WRONGPASS, NOPERM...), a misconfiguration that retrying will not cure.
 */
function firstOutcome(connecting: Promise<unknown>, client: RedisClient, ms: number): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    const onError = (error: unknown) => {
      done();
      if (error instanceof ErrorReply && MISCONFIGURED.test(error.message)) reject(error);
      else resolve(false);
    };
    const timer = setTimeout(() => {
      done();
      resolve(false);
    }, ms);
    const done = () => {
      clearTimeout(timer);
      client.off('error', onError);
    };
    client.on('error', onError);
    connecting.then(
      () => {
        done();
        resolve(true);
      },
      (error: unknown) => {
        done();
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no connection within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
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
