import { connect, type ChannelModel } from 'amqplib';
import type { Logger } from '@application/ports/logger';
import { Backoff } from '@application/shared/retry-delay';
import { Sleeper } from './sleeper';

export interface AmqpConnectionOptions {
  url: string;
  /** Reconnect waits: from min, doubling, up to max. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A dead peer (cut network, frozen broker) is noticed after about two heartbeats. */
  heartbeatSeconds?: number;
  /** How long close() waits for the broker's answer before it drops the connection (default 3 s). */
  closeDeadlineMs?: number;
  /**
   * A connection that stays up this long resets the reconnect backoff (default 10 s); one lost sooner makes the next
   * attempt wait the next, longer, backoff.
   */
  stableAfterMs?: number;
}

const STABLE_AFTER_MS = 10_000;

const CLOSE_DEADLINE_MS = 3000;

/**
 * amqplib's close() waits for the broker's close-ok, and on a link that carries nothing that never comes: when the
 * heartbeat then ends the connection, the promise is left pending for good. So it is raced against the connection's
 * 'close' event and a deadline, after which the socket is destroyed. Until a review of stop 49 a stalled link hung the
 * service's shutdown (the relay, the database and the cache were never closed, and the process exited 1 at the end
 * of its 30 s). Never rejects.
 */
async function closeWithin(model: ChannelModel, deadlineMs: number): Promise<void> {
  // The destroy below makes amqplib emit 'error': never unheard (it would end the process).
  model.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const late = Symbol('late');
  const outcome = await Promise.race([
    model.close().then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((resolve) => model.once('close', () => resolve())),
    new Promise<typeof late>((resolve) => {
      timer = setTimeout(() => resolve(late), deadlineMs);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
  if (outcome === late) {
    (model.connection as unknown as { stream?: { destroy?(error?: Error): void } }).stream?.destroy?.(new Error('no answer to close within the deadline'));
  }
}

/** Run after every (re)connect: create channels, declare topology, start consumers. */
export type ConnectionSetup = (model: ChannelModel) => Promise<void>;

/**
 * One AMQP connection that reconnects by itself with backoff, forever, until closed. Publishers and
 * consumers register a setup that runs on each new connection; a failing setup drops the connection and
 * retries the whole sequence, so the topology is always complete when `connected` is true.
 */
export class AmqpConnection {
  private model: ChannelModel | null = null;
  private ready = false;
  private closing = false;
  private loop: Promise<void> | null = null;
  private readonly setups: ConnectionSetup[] = [];
  private readonly readyListeners: (() => void)[] = [];
  private readonly backoff: Backoff;
  private readonly sleeper = new Sleeper();
  private lostAt: number | null = null;
  /** When the current connection became ready (epoch ms; null while not connected). */
  private readyAt: number | null = null;
  /** The wait before the next attempt after a connection was lost (0: at once). */
  private retryInMs = 0;

  constructor(
    private readonly options: AmqpConnectionOptions,
    private readonly logger: Logger,
  ) {
    this.backoff = new Backoff({ baseMs: options.minBackoffMs ?? 200, maxMs: options.maxBackoffMs ?? 10_000 });
  }

  get connected(): boolean {
    return this.ready;
  }

  /** Runs `setup` on every new connection, and now if already connected (a failure forces a reconnect). */
  async onConnect(setup: ConnectionSetup): Promise<void> {
    this.setups.push(setup);
    const model = this.ready ? this.model : null;
    if (model === null) return;
    try {
      await setup(model);
    } catch (error) {
      this.logger.warn({ err: describe(error) }, 'AMQP setup failed; reconnecting');
      await model.close().catch(() => undefined);
    }
  }

  /**
   * Calls `listener` each time the connection is up with every setup done (`connected` turned true): the first
   * connection and every reconnection. The outbox relay is woken this way: until stop 52 a reconnect told no one, and
   * the relay slept out the backoff of the outage (up to 30 s) though the broker was back.
   */
  onReady(listener: () => void): void {
    this.readyListeners.push(listener);
  }

  /** Connects in the background: a broker that is away at start-up is the same as one that goes away later. */
  start(): void {
    this.loop ??= this.keepConnected();
  }

  /** Resolves once connected (tests, benchmark); never rejects, a broker that never comes makes it wait. */
  async waitUntilConnected(pollMs = 50): Promise<void> {
    while (!this.ready && !this.closing) await new Promise((r) => setTimeout(r, pollMs));
  }

  /**
   * A channel of `model` closed on its own (a channel error, e.g. the exchange was deleted): start over on a new
   * connection, so that every setup runs again. Ignored for an old connection or while closing.
   */
  reset(model: ChannelModel, reason: string): void {
    if (this.closing || this.model !== model) return;
    this.logger.warn({ reason }, 'AMQP channel lost; reconnecting');
    void model.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closing = true;
    // Sticky: a connect attempt under way when this is called (nothing asleep yet) does not wait its backoff after.
    this.sleeper.close();
    const model = this.model;
    this.model = null;
    this.ready = false;
    if (model) await closeWithin(model, this.options.closeDeadlineMs ?? CLOSE_DEADLINE_MS);
    await this.loop;
  }

  private async keepConnected(): Promise<void> {
    while (!this.closing) {
      if (this.model === null) {
        if (this.retryInMs > 0) {
          const wait = this.retryInMs;
          this.retryInMs = 0;
          await this.sleeper.sleep(wait);
          continue;
        }
        const wait = await this.tryConnect();
        if (wait > 0) await this.sleeper.sleep(wait);
      } else {
        await this.sleeper.sleep(60_000); // woken by 'close' or by close()
      }
    }
  }

  /** Returns how long to wait before the next attempt (0 when connected). */
  private async tryConnect(): Promise<number> {
    let model: ChannelModel | null = null;
    try {
      model = await connect(withHeartbeat(this.options.url, this.options.heartbeatSeconds ?? 10), { timeout: 5000 });
      model.on('error', (error: Error) => this.logger.warn({ err: error }, 'AMQP connection error'));
      model.on('close', () => this.onClosed(model!));
      if (this.closing) {
        // close() came during the handshake, with no connection yet to end: this one is ended here, and close()
        // (which waits for this loop) returns after it. Until stop 55 it stayed open until the process exited.
        await closeWithin(model, this.options.closeDeadlineMs ?? CLOSE_DEADLINE_MS);
        return 0;
      }
      this.model = model;
      for (const setup of this.setups) await setup(model);
      // Closed during the setups without their failing: wait as after a failed attempt.
      if (this.closing || this.model !== model) return this.closing ? 0 : this.backoff.next();
      this.ready = true;
      const downMs = this.lostAt === null ? undefined : Date.now() - this.lostAt;
      this.logger.info({ down_ms: downMs }, downMs === undefined ? 'AMQP connected' : 'AMQP reconnected');
      this.lostAt = null;
      // The backoff is reset once the connection has lasted (onClosed), not here: a broker or load balancer that
      // completes the handshake and drops the connection at once made this reconnect every 50-170 ms, each one
      // waking the outbox relay (until a review of stop 52).
      this.readyAt = Date.now();
      this.notifyReady();
      return 0;
    } catch (error) {
      if (this.model === model) this.model = null;
      await model?.close().catch(() => undefined);
      const wait = this.backoff.next();
      this.lostAt ??= Date.now();
      this.logger.warn({ err: describe(error), retry_in_ms: wait }, 'AMQP broker unreachable; retrying');
      return wait;
    }
  }

  /** A listener that throws is logged: it must not count as a failed connection (which would drop it). */
  private notifyReady(): void {
    for (const listener of this.readyListeners) {
      try {
        listener();
      } catch (error) {
        this.logger.warn({ err: describe(error) }, 'AMQP ready listener failed');
      }
    }
  }

  private onClosed(model: ChannelModel): void {
    if (this.model !== model) return;
    this.model = null;
    this.ready = false;
    const upMs = this.readyAt === null ? null : Date.now() - this.readyAt;
    this.readyAt = null;
    if (this.closing) return;
    this.lostAt = Date.now();
    // Lost during the setups, tryConnect's failure path waits; lost soon after, the backoff keeps growing.
    if (upMs !== null && upMs >= (this.options.stableAfterMs ?? STABLE_AFTER_MS)) this.backoff.reset();
    else if (upMs !== null) this.retryInMs = this.backoff.next();
    this.logger.warn({ up_ms: upMs ?? undefined, retry_in_ms: this.retryInMs }, 'AMQP connection lost; reconnecting');
    this.sleeper.cancel();
  }
}

function withHeartbeat(url: string, seconds: number): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', String(seconds));
  return parsed.toString();
}

/** The message only: an amqplib error can carry the connection URL (and its password) in other fields. */
function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
