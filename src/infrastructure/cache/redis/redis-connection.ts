import { createHash } from 'node:crypto';
import { ErrorReply } from 'redis';
import type { Logger } from '@application/ports/logger';
import { withCommandDeadline } from './redis-deadline';
import { COMMAND_TIMEOUT_MS, CONNECT_TIMEOUT_MS, createTopologyClient, isCluster, type RedisClient, type RedisTopology, type StandaloneRedisClient } from './redis-topology';

export { COMMAND_TIMEOUT_MS, type RedisClient, type RedisTopology, type StandaloneRedisClient } from './redis-topology';

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

export async function pingRedis(client: RedisClient): Promise<boolean> {
  try {
    return client.isReady && (await client.ping()) === 'PONG';
  } catch {
    return false;
  }
}

/**
 * Readiness's check: Redis takes a write (`key`, gone after 5 s), not only a PING. A Redis at `maxmemory` with
 * `noeviction`, a READONLY replica or a user denied writes still answers PONG while it refuses every write: until
 * stop 52 such an instance read `cache: up` while its revocations failed (a logout answered 503) and its limits were
 * counted per instance (a review). One small write per probe: a probe every few seconds costs Redis nothing.
 */
export async function redisTakesWrites(client: RedisClient, key: string): Promise<boolean> {
  try {
    return client.isReady && (await client.set(key, '1', { expiration: { type: 'PX', value: 5_000 } })) === 'OK';
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
