import type { EventPublisher, IntegrationEvent, PublishReport } from '@application/ports/event-publisher';
import type { EventDelivery, EventSubscriptions, SubscriptionSpec } from '@application/ports/event-subscriptions';
import type { Logger } from '@application/ports/logger';
import { topicMatches } from './topic-pattern';

export interface DeadLetter {
  event: IntegrationEvent;
  attempt: number;
  reason: string;
}

interface Message {
  event: IntegrationEvent;
  attempt: number;
}

export interface InProcessBusOptions {
  /** A delivery whose handler throws instead of settling is handed out again after this long (as after a lost channel). */
  redeliveryDelayMs: number;
  /**
   * At close, how long the queues get to hand out what they hold (waiting retries included, once more, at once)
   * before what is left is dropped and counted in a log line. Default 5000.
   */
  closeDrainMs: number;
}

/**
 * The broker of embedded mode, in the process: the relay publishes to it as to RabbitMQ, and each subscriber
 * gets its own queue with the same semantics (pattern binding, prefetch, manual settlement, retry with delay,
 * dead letters). Until start() it holds what it accepts, so that the relay may run before the subscribers
 * are in place (as durable queues outlive a restart of the service). Queues live in memory: a message accepted
 * but not yet handled when the process dies is lost. A graceful close hands out what the queues hold first
 * (`closeDrainMs`): until stop 34 it dropped them, so a SIGTERM lost the events queued behind the prefetch or
 * waiting for a retry, which the relay had already marked published (an outside review found it).
 */
export class InProcessEventBus implements EventPublisher, EventSubscriptions {
  private started = false;
  private closed = false;
  private held: IntegrationEvent[] = [];
  private readonly queues = new Map<string, MemoryQueue>();

  private readonly options: InProcessBusOptions;

  constructor(
    private readonly logger: Logger,
    options: Partial<InProcessBusOptions> = {},
  ) {
    this.options = { redeliveryDelayMs: 1000, closeDrainMs: 5000, ...options };
  }

  /** Every subscriber is in place: route what was held, and from now on route at once. */
  start(): void {
    this.started = true;
    const held = this.held;
    this.held = [];
    held.forEach((event) => this.route(event));
  }

  isAvailable(): boolean {
    return !this.closed;
  }

  async publish(events: readonly IntegrationEvent[]): Promise<PublishReport> {
    if (this.closed) return { confirmed: [], failed: events.map((e) => ({ id: e.id, error: 'in-process bus closed' })) };
    for (const event of events) {
      if (this.started) this.route(event);
      else this.held.push(structuredClone(event)); // as a broker takes a copy at publish
    }
    return { confirmed: events.map((e) => e.id), failed: [] };
  }

  async subscribe(spec: SubscriptionSpec, onDelivery: (delivery: EventDelivery) => Promise<void>): Promise<void> {
    if (this.queues.has(spec.name)) throw new Error(`subscriber ${spec.name} is already subscribed`);
    this.queues.set(spec.name, new MemoryQueue(spec, onDelivery, this.logger, this.options.redeliveryDelayMs));
  }

  deadLetters(subscriber: string): readonly DeadLetter[] {
    return this.queues.get(subscriber)?.deadLetters ?? [];
  }

  /** Resolves when no queue holds, handles or waits to retry a message (tests). */
  async idle(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.idle()));
  }

  /**
   * Stops accepting; each queue hands out what it holds (a waiting retry once more, at once) for up to closeDrainMs,
   * then drops the rest (logged with its count), and the deliveries in flight finish.
   */
  async close(): Promise<void> {
    this.closed = true;
    // Closed before start() (a start-up that stopped between the relay's start and the subscribers'): what the relay
    // handed over, reported confirmed and so marked published, goes to the queues in place now and is drained with
    // the rest. Until 2026-12-07 it stayed held and was dropped without a word.
    if (!this.started) {
      const held = this.held.length;
      this.start();
      if (held > 0 && this.queues.size === 0) {
        this.logger.warn({ dropped: held }, 'in-process bus closed before any subscriber was in place: events not handled (lost: embedded queues live in memory)');
      }
    }
    await Promise.all([...this.queues.values()].map((q) => q.close(this.options.closeDrainMs)));
  }

  private route(event: IntegrationEvent): void {
    for (const queue of this.queues.values()) {
      // A copy per queue: one subscriber can never change what another receives.
      if (queue.binds(event.type)) queue.enqueue({ event: structuredClone(event), attempt: 1 });
    }
  }
}

/** The dead letters a queue of the in-process bus keeps (the latest). */
const MAX_DEAD_LETTERS = 1000;

class MemoryQueue {
  readonly deadLetters: DeadLetter[] = [];
  private readonly ready: Message[] = [];
  /** Retries waiting for their delay, and the message each will hand out again. */
  private readonly timers = new Map<NodeJS.Timeout, Message>();
  private inFlight = 0;
  /** Draining: no new retry is scheduled (a failure now is dropped, counted). */
  private closing = false;
  private closed = false;
  private dropped = 0;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly spec: SubscriptionSpec,
    private readonly onDelivery: (delivery: EventDelivery) => Promise<void>,
    private readonly logger: Logger,
    private readonly redeliveryDelayMs: number,
  ) {}

  binds(type: string): boolean {
    return this.spec.patterns.some((pattern) => topicMatches(pattern, type));
  }

  enqueue(message: Message): void {
    if (this.closed) return;
    this.ready.push(message);
    this.pump();
  }

  idle(): Promise<void> {
    return this.isIdle() ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }

  async close(drainMs: number): Promise<void> {
    this.closing = true;
    // A retry waiting for its delay gets its one more attempt now, before the process goes.
    for (const [timer, message] of this.timers) {
      clearTimeout(timer);
      this.ready.push(message);
    }
    this.timers.clear();
    this.pump();
    let deadline: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise<void>((resolve) => (deadline = setTimeout(resolve, drainMs)))]);
    clearTimeout(deadline);
    this.closed = true;
    this.dropped += this.ready.length;
    this.ready.length = 0;
    await this.idle();
    if (this.dropped > 0) {
      this.logger.warn({ subscriber: this.spec.name, dropped: this.dropped }, 'in-process bus closed with events not handled (lost: embedded queues live in memory)');
    }
  }

  private isIdle(): boolean {
    return this.ready.length === 0 && this.inFlight === 0 && this.timers.size === 0;
  }

  private pump(): void {
    while (this.inFlight < this.spec.prefetch && this.ready.length > 0) {
      const message = this.ready.shift()!;
      this.inFlight += 1;
      void this.deliver(message).finally(() => {
        this.inFlight -= 1;
        this.pump();
        this.notifyIfIdle();
      });
    }
  }

  /**
   * Each delivery hands out a copy of the event as published, and a delivery is settled once: as a broker re-reads
   * a message and forgets an acknowledged one. Until stop 62 every attempt and the dead letter were the one object a
   * handler could change, and a handler that acked (or dead-lettered) and then threw got the event again (the
   * messaging contract suite, tests/integration/messaging/event-bus-contract.test.ts, found both against RabbitMQ).
   */
  private async deliver(message: Message): Promise<void> {
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      return true;
    };
    const delivery: EventDelivery = {
      event: structuredClone(message.event),
      attempt: message.attempt,
      ack: async () => void settle(),
      retryLater: async (delayMs) => {
        if (settle()) this.later({ ...message, attempt: message.attempt + 1 }, delayMs);
      },
      deadLetter: async (reason) => {
        if (!settle()) return;
        // Kept for inspection in process (tests), the latest MAX_DEAD_LETTERS only: nothing replays them, and the log
        // line of the consumer that gave up names the event (until a review of stop 60 the list grew without bound).
        if (this.deadLetters.length >= MAX_DEAD_LETTERS) this.deadLetters.shift();
        this.deadLetters.push({ event: structuredClone(message.event), attempt: message.attempt, reason });
      },
    };
    try {
      await this.onDelivery(delivery);
    } catch (error) {
      if (!settle()) return;
      this.logger.warn({ err: error instanceof Error ? error.message : String(error), subscriber: this.spec.name }, 'delivery not settled; redelivering');
      this.later(message, this.redeliveryDelayMs);
    }
  }

  private later(message: Message, delayMs: number): void {
    if (this.closing || this.closed) {
      this.dropped += 1;
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.enqueue(message);
      this.notifyIfIdle();
    }, delayMs);
    timer.unref();
    this.timers.set(timer, message);
  }

  private notifyIfIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
