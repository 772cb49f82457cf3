import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { closeWithin, loadAmqplib, MissingPeerError, withHeartbeat } from './amqp-link';
import { backoffDelay } from './backoff';
import { applyRevocationEvent, REVOCATION_EVENT_TYPES } from './revocation-events';
import { RevocationList, type RevocationCheck, type RevocationListOptions } from './revocation-list';
import type { VerifiedToken } from './verified-token';

export interface RevocationFeedLogger {
  info(message: string): void;
  warn(message: string): void;
}

export interface RevocationFeedOptions extends RevocationListOptions {
  /** The RabbitMQ auth-service publishes to, e.g. `amqp://user:pass@rabbit:5672` (never logged). */
  url: string;
  /** The topic exchange (auth-service's `AMQP_EXCHANGE`, default `auth.events`). */
  exchange?: string;
  /**
   * The queue's name (default: one the broker names). Exclusive and auto-deleted in any case: one per process, so a
   * name must be the process's own (replicas that share one leave the feed to whichever holds it).
   */
  queue?: string;
  /**
   * The AMQP heartbeat asked of the broker, in seconds (default 5; a URL with its own `heartbeat` query parameter
   * keeps it). A link that silently stops carrying anything (a dropped route, a stalled NAT) is noticed after about
   * two of them: the feed turns unhealthy, `failClosedWhenDisconnected` begins and the feed reconnects. Until stop 49
   * none was asked, so the broker's (60 s, given up after three) applied: such a link stayed healthy for about 3 min.
   */
  heartbeatSeconds?: number;
  /** Unacknowledged deliveries in flight (default 100). */
  prefetch?: number;
  /** Reconnect delays: full jitter in [0, min(maxDelayMs, baseDelayMs x 2^n)) (defaults 250 ms and 30 s). */
  reconnect?: { baseDelayMs?: number; maxDelayMs?: number };
  /** Where connection changes are told (default: silent). Lines never carry the URL or a token. */
  logger?: RevocationFeedLogger;
  /**
   * The broker users whose events are applied: auth-service's login (the user of its `AMQP_URL`), which it stamps
   * as each message's `user_id` and RabbitMQ checks. Any other message (no `user_id` included) is dropped, so a
   * service that may publish to the exchange cannot log users out of this one. Unset: every event is applied.
   */
  trustedPublishers?: readonly string[];
}

export interface RevocationFeed extends RevocationCheck {
  /** True while subscribed: bound to the exchange and consuming. False before the first connection and during outages. */
  readonly healthy: boolean;
  /**
   * When the feed last resumed after an outage (ms since the epoch, the `now` option's clock): events published
   * during the outage were never received. 0 while it has had none since its first subscription, and that one came
   * at the first attempt; null while not subscribed (before the first subscription too). A first subscription that
   * came only after a failed attempt is a resumption (the broker was unreachable when the feed was created: whatever
   * was published meanwhile was missed); until stop 49 it was 0.
   */
  readonly resumedAt: number | null;
  /** Revoked sessions and cut-off users held (expired entries go on the next write). */
  readonly size: number;
  /** Resolves once the feed is subscribed (at once if it is); rejects when the feed is closed first. */
  ready(): Promise<void>;
  /**
   * Stops reconnecting and closes the connection; the list stays readable. Resolves within about 2 s: on a link that
   * carries nothing the connection is dropped without the broker's answer (until stop 49 it never resolved).
   */
  close(): Promise<void>;
}

/**
 * Push revocation for offline verification (issue 11 item 7): subscribes to auth-service's revocation events on
 * RabbitMQ and keeps a bounded in-memory RevocationList that `createTokenVerifier({ revocations })` consults.
 *
 * `amqplib` is an optional peer dependency: loaded here, when a feed is created, and nowhere else in the SDK.
 * The connection is made in the background; `ready()` says when it is up. On a connection or channel loss the
 * feed reconnects with capped, jittered backoff and binds a fresh exclusive queue: events published while it was
 * away are missed (the queue was deleted with the connection); the verifier keeps accepting those tokens until
 * they expire, unless it was created with `failClosedWhenDisconnected`, which checks them online while the feed is
 * down and, once it is back, every token issued before it resumed (`resumedAt`) until those expire.
 */
export function createRevocationFeed(options: RevocationFeedOptions): RevocationFeed {
  const exchange = options.exchange ?? 'auth.events';
  const prefetch = options.prefetch ?? 100;
  const logger = options.logger;
  const list = new RevocationList(options);
  const now = options.now ?? Date.now;
  const heartbeatSeconds = options.heartbeatSeconds ?? 5;
  if (!(Number.isInteger(heartbeatSeconds) && heartbeatSeconds > 0)) throw new TypeError('heartbeatSeconds: a positive integer');
  const url = withHeartbeat(options.url, heartbeatSeconds);
  let model: ChannelModel | undefined;
  let healthy = false;
  let resumedAt: number | null = null;
  let subscribedBefore = false;
  let closed = false;
  let attempt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let waiters: { resolve(): void; reject(error: Error): void }[] = [];
  /** Set when the feed cannot work at all (amqplib missing): ready() rejects with it. */
  let failure: Error | undefined;
  const trustedUsers = options.trustedPublishers === undefined ? undefined : new Set(options.trustedPublishers);
  const trusted = (userId: unknown): boolean => trustedUsers === undefined || (typeof userId === 'string' && trustedUsers.has(userId));
  let droppedCount = 0;
  /** Told on the first drop and every 1000th after it: a flood of forged events must not flood the log too. */
  const dropped = (): void => {
    droppedCount += 1;
    if (droppedCount % 1000 === 1) logger?.warn(`revocation feed: ${droppedCount} event(s) not published by a trusted publisher dropped`);
  };

  const scheduleReconnect = (why: string): void => {
    if (closed || timer) return;
    const wait = Math.max(50, backoffDelay(attempt, { baseDelayMs: options.reconnect?.baseDelayMs ?? 250, maxDelayMs: options.reconnect?.maxDelayMs ?? 30_000 }));
    attempt += 1;
    logger?.warn(`revocation feed: ${why}; reconnecting in ${wait} ms (revocations published meanwhile are missed)`);
    timer = setTimeout(() => {
      timer = undefined;
      void connectOnce();
    }, wait);
    timer.unref?.();
  };

  const lost = (current: ChannelModel, why: string): void => {
    if (model !== current) return;
    model = undefined;
    healthy = false;
    resumedAt = null;
    void closeWithin(current);
    scheduleReconnect(why);
  };

  const connectOnce = async (): Promise<void> => {
    let current: ChannelModel | undefined;
    try {
      const connect = await loadAmqplib();
      current = await connect(url, { timeout: 5000 });
      if (closed) {
        await closeWithin(current);
        return;
      }
      model = current;
      const self = current;
      self.on('error', () => undefined); // 'close' follows and says it
      self.on('close', () => lost(self, 'connection closed'));
      const channel: Channel = await self.createChannel();
      channel.on('error', () => undefined);
      channel.on('close', () => lost(self, 'channel closed'));
      await channel.prefetch(prefetch);
      await channel.assertExchange(exchange, 'topic', { durable: true });
      const { queue } = await channel.assertQueue(options.queue ?? '', { exclusive: true, autoDelete: true, durable: false });
      for (const type of REVOCATION_EVENT_TYPES) await channel.bindQueue(queue, exchange, type);
      await channel.consume(queue, (message: ConsumeMessage | null) => {
        if (!message) return lost(self, 'consumer cancelled by the broker');
        try {
          if (trusted(message.properties.userId)) applyRevocationEvent(list, message.content);
          else dropped();
        } finally {
          channel.ack(message);
        }
      });
      if (model !== self) return;
      // Taken once the queue is bound and consumed: anything published from here on reaches the list. A first
      // subscription at the first attempt records no outage (events from before the feed started are beyond any
      // feed: README); one after a failed attempt does (`attempt` counts them until it is reset below): the feed
      // was created, and a verifier may have relied on it, while events went nowhere (until stop 49, 0).
      resumedAt = subscribedBefore || attempt > 0 ? now() : 0;
      subscribedBefore = true;
      healthy = true;
      attempt = 0;
      logger?.info(`revocation feed: subscribed to ${exchange}`);
      for (const waiter of waiters) waiter.resolve();
      waiters = [];
    } catch (error) {
      // 405 RESOURCE_LOCKED: another connection holds the exclusive queue of that name. Retried (the holder may be
      // this process's own earlier connection, not yet seen dead by the broker), but said plainly: replicas that all
      // name the same queue leave the feed to one of them (a review of stop 60; the README's example suggested it).
      const held = options.queue !== undefined && (error as { code?: unknown } | null)?.code === 405;
      const why = held ? `the queue ${options.queue} is held by another connection (exclusive: every process needs a name of its own, or none for a broker-named queue)` : `subscription failed (${reason(error)})`;
      if (current) lost(current, why);
      else if (error instanceof MissingPeerError) fail(error);
      else scheduleReconnect(`cannot connect (${reason(error)})`);
    }
  };

  const fail = (error: Error): void => {
    closed = true;
    failure = error;
    logger?.warn(`revocation feed: ${error.message}`);
    for (const waiter of waiters) waiter.reject(error);
    waiters = [];
  };

  void connectOnce();

  return {
    get healthy() {
      return healthy;
    },
    get resumedAt() {
      return resumedAt;
    },
    get size() {
      return list.size;
    },
    isRevoked: (token: VerifiedToken) => list.isRevoked(token),
    ready() {
      if (healthy) return Promise.resolve();
      if (closed) return Promise.reject(failure ?? new Error('revocation feed closed'));
      return new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
    },
    async close() {
      closed = true;
      healthy = false;
      if (timer) clearTimeout(timer);
      timer = undefined;
      const current = model;
      model = undefined;
      for (const waiter of waiters) waiter.reject(new Error('revocation feed closed'));
      waiters = [];
      if (current) await closeWithin(current);
    },
  };
}

function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // Connection errors can quote the URL, credentials included. Cut to 1,000 first (the scan is quadratic in a long
  // run of word characters; what lies past 200 is cut anyway, so a URL split at 1,000 never shows).
  return message.slice(0, 1000).replace(/\w+:\/\/[^\s@/]*@/g, '//***@').slice(0, 200);
}
