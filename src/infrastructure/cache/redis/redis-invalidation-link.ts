import { randomUUID } from 'node:crypto';
import type { Logger } from '@application/ports/logger';
import type { InvalidatedKeys, InvalidationLink } from '../local/invalidation-link';
import { watchRedis, type RedisClient } from './redis-connection';

export interface RedisInvalidationLinkOptions {
  /** Every instance publishes a heartbeat this often (ms). */
  heartbeatMs: number;
  /** Not having received its own heartbeat for this long, an instance distrusts the link (ms). */
  silenceMs: number;
  /**
   * A heartbeat that took longer than this to come back (ms) says the link is late: distrusted until one comes
   * back within it. The bound a revocation elsewhere is seen in, on a link that delivers late but steadily.
   */
  maxTransitMs: number;
  /** Monotonic ms. */
  now?: () => number;
}

/** The subset of the three node-redis client kinds that the subscriber connection uses. */
interface Subscriber {
  connect(): Promise<unknown>;
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
  destroy(): unknown;
}

/**
 * Redis pub/sub between instances, on one channel under the key prefix. Publishing goes through the process's
 * connection; receiving through a dedicated subscriber connection (a duplicate of it: a standalone connection in
 * subscriber mode runs no other commands; Cluster and Sentinel clients keep their own pub/sub connection too).
 *
 * Trust: the link is trusted only while this instance keeps receiving its own heartbeats (published every
 * `heartbeatMs`), the last one *sent* within `silenceMs` (each carries its send time on this process's monotonic
 * clock: a link that delivers late, whatever its rate, delivers other instances' invalidations as late, so a
 * heartbeat that took longer than `silenceMs` does not count; until stop 34 the receipt time counted, and a slow
 * link stayed trusted however late it was; an outside review found it), and none missed since the subscriber
 * connection last failed.
 * Receiving its own heartbeat proves that the subscription is live end to end, after a reconnect too (node-redis
 * subscribes again by itself); a link that dies silently (a network that drops packets) is noticed within
 * `silenceMs`. Becoming trusted again calls `reestablished` (the local caches are emptied) when announcements
 * sent meanwhile may have been lost: at the start, after the connection failed, a command went unanswered or a
 * silence. Not after a link that was only late: its own heartbeat came back, and a subscription delivers in order,
 * so every announcement published before it had arrived and been applied; emptying the caches there made a CPU-bound
 * instance, whose heartbeats come back late, lose its whole local cache at each blip.
 * Under Redis Cluster a classic PUBLISH reaches subscribers on every node (through the cluster bus).
 */
export class RedisInvalidationLink implements InvalidationLink {
  readonly instanceId = randomUUID();
  private readonly channel: string;
  /** `h <instance id> `: this instance's heartbeats, followed by their send time. */
  private readonly heartbeatPrefix: string;
  private readonly now: () => number;
  private subscriber: Subscriber | null = null;
  /** The send time of the newest own heartbeat received (monotonic ms). */
  private lastOwnHeartbeat = Number.NEGATIVE_INFINITY;
  private handlers: Parameters<InvalidationLink['listen']>[0] | null = null;
  private timer: NodeJS.Timeout | null = null;
  private retry: NodeJS.Timeout | null = null;
  private closed = false;
  private warned = false;
  /** Announcements may have been lost since the link was last trusted: regaining trust empties the local caches. */
  private mayHaveLost = true;
  /** When the newest own heartbeat arrived, late or not (monotonic ms): a longer gap than the silence is a loss. */
  private lastArrival = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly client: RedisClient,
    keyPrefix: string,
    private readonly logger: Logger,
    private readonly options: RedisInvalidationLinkOptions,
  ) {
    this.channel = `${keyPrefix}invalidate`;
    this.heartbeatPrefix = `h ${this.instanceId} `;
    this.now = options.now ?? (() => performance.now());
  }

  /** Connects the subscriber in the background and starts the heartbeat; untrusted until its first heartbeat. */
  start(): void {
    this.timer = setInterval(() => this.beat(), this.options.heartbeatMs);
    this.timer.unref();
    this.subscribe();
  }

  /** Something else showed the link to be failing (a command to Redis got no answer): untrusted until the next heartbeat. */
  distrust(): void {
    this.lastOwnHeartbeat = Number.NEGATIVE_INFINITY;
    this.mayHaveLost = true;
  }

  trusted(): boolean {
    return this.now() - this.lastOwnHeartbeat < this.options.silenceMs;
  }

  async publish(keys: InvalidatedKeys): Promise<void> {
    await this.client.publish(this.channel, JSON.stringify({ o: this.instanceId, s: keys.sessions, u: keys.users }));
  }

  listen(handlers: Parameters<InvalidationLink['listen']>[0]): void {
    this.handlers = handlers;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.retry) clearTimeout(this.retry);
    this.lastOwnHeartbeat = Number.NEGATIVE_INFINITY;
    const subscriber = this.subscriber;
    this.subscriber = null;
    // One still connecting is ended again when its connect settles (subscribe() below).
    if (subscriber) end(subscriber);
  }

  private subscribe(): void {
    if (this.closed) return;
    const subscriber = (this.client as unknown as { duplicate(): Subscriber }).duplicate();
    this.subscriber = subscriber;
    watchRedis(subscriber as unknown as RedisClient, {
      down: (error) => {
        this.lastOwnHeartbeat = Number.NEGATIVE_INFINITY;
        this.mayHaveLost = true;
        // close() ends the connection too: not an outage.
        if (!this.warned && !this.closed) this.logger.warn({ err: error }, 'cache invalidation link down: local caches bypassed');
        this.warned = true;
      },
      up: () => {
        this.beat();
      },
    });
    subscriber
      .connect()
      .then(() => (this.wanted(subscriber) ? subscriber.subscribe(this.channel, (message) => this.receive(message)) : undefined))
      .then(() => {
        // Closed meanwhile: node-redis completes (and even subscribes) a connection whose destroy() raced its connect,
        // with `isOpen` false by then. Until stop 55 such a connection stayed open, one per close during a connect.
        if (this.wanted(subscriber)) this.beat();
        else end(subscriber);
      })
      .catch((error: unknown) => {
        end(subscriber);
        if (this.closed) return;
        // The first connection failed: node-redis retries only connections that once succeeded.
        if (!this.warned) this.logger.warn({ err: error }, 'cache invalidation link: cannot subscribe yet, retrying');
        this.warned = true;
        this.retry = setTimeout(() => this.subscribe(), this.options.heartbeatMs);
        this.retry.unref();
      });
  }

  /** Whether this subscriber is still the link's own (not closed, not replaced by a retry). */
  private wanted(subscriber: Subscriber): boolean {
    return !this.closed && this.subscriber === subscriber;
  }

  private beat(): void {
    if (this.closed) return;
    this.client.publish(this.channel, `${this.heartbeatPrefix}${this.now().toFixed(1)}`).catch(() => undefined);
  }

  private receive(message: string): void {
    if (message.startsWith(this.heartbeatPrefix)) {
      const sentAt = Number(message.slice(this.heartbeatPrefix.length));
      if (!Number.isFinite(sentAt)) return;
      const arrival = this.now();
      if (arrival - this.lastArrival >= this.options.silenceMs) this.mayHaveLost = true;
      this.lastArrival = arrival;
      if (arrival - sentAt > this.options.maxTransitMs) {
        // Late: other instances' invalidations come as late (outside review, 2026-12-03: a link delivering 300 ms
        // late stayed trusted, its heartbeats within the silence, and a logout elsewhere was accepted for 300 ms).
        if (this.trusted() && !this.warned) {
          this.logger.warn({ maxTransitMs: this.options.maxTransitMs }, 'cache invalidation link late: local caches bypassed');
          this.warned = true;
        }
        this.lastOwnHeartbeat = Number.NEGATIVE_INFINITY;
        return;
      }
      const wasTrusted = this.trusted();
      // Never backwards: a heartbeat overtaken by a newer one says nothing more.
      this.lastOwnHeartbeat = Math.max(this.lastOwnHeartbeat, sentAt);
      if (!wasTrusted && this.trusted()) {
        // Back (or first time): whatever was announced while we were not listening may be lost; start afresh.
        if (this.mayHaveLost) this.handlers?.reestablished();
        this.mayHaveLost = false;
        if (this.warned) this.logger.info({}, 'cache invalidation link confirmed');
        this.warned = false;
      }
      return;
    }
    if (message.startsWith('h ')) return; // another instance's heartbeat
    const keys = parse(message);
    // Unreadable: it may have named anything, so everything goes.
    if (keys === null) this.handlers?.reestablished();
    else if (keys.origin !== this.instanceId) this.handlers?.invalidate(keys);
  }
}

/**
 * Ends a subscriber connection, whatever its state: a standalone client's destroy() does nothing to one with nothing
 * left to end; a Sentinel client's is async, a Cluster client's may throw when already closed.
 */
function end(subscriber: Subscriber): void {
  try {
    void Promise.resolve(subscriber.destroy()).catch(() => undefined);
  } catch {
    // Already closed.
  }
}

function parse(message: string): (InvalidatedKeys & { origin: string }) | null {
  try {
    const value = JSON.parse(message) as { o?: unknown; s?: unknown; u?: unknown };
    const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
    return { origin: typeof value.o === 'string' ? value.o : '', sessions: strings(value.s), users: strings(value.u) };
  } catch {
    return null;
  }
}
