import type { EventPublisher, IntegrationEvent, PublishReport } from '@application/ports/event-publisher';
import type { DomainEvent } from '@domain/shared/domain-event';
import { InProcessEventBus } from '@infrastructure/messaging/memory/in-process-event-bus';
import { OutboxRelay, type OutboxRelayOptions } from '@infrastructure/messaging/outbox-relay';
import { AfterCommitList, closeTransaction, openTransaction } from '@infrastructure/persistence/after-commit';
import { InMemoryDatabase } from '@infrastructure/persistence/memory/in-memory-database';
import { appendToOutbox } from '@infrastructure/persistence/memory/in-memory-outbox';
import { InMemoryOutboxStore } from '@infrastructure/persistence/memory/in-memory-outbox-store';
import { ManualClock } from '@infrastructure/time/system-clock';
import { RecordingLogger, eventually } from '../../../support/events';

/**
 * A broker in front of the in-process bus that the test controls: it can be away or refuse some events.
 * Everything it confirms is recorded, in order.
 */
class ControlledBroker implements EventPublisher {
  available = true;
  refuse = new Set<string>();
  readonly received: IntegrationEvent[] = [];
  constructor(private readonly bus = new InProcessEventBus(new RecordingLogger())) {
    bus.start();
  }
  isAvailable(): boolean {
    return this.available;
  }
  async publish(events: readonly IntegrationEvent[]): Promise<PublishReport> {
    const accepted = events.filter((e) => this.available && !this.refuse.has(e.id));
    const report = await this.bus.publish(accepted);
    this.received.push(...accepted);
    const failed = events.filter((e) => !accepted.includes(e)).map((e) => ({ id: e.id, error: 'nacked by broker' }));
    return { confirmed: report.confirmed, failed };
  }
}

const T0 = new Date('2026-03-01T12:00:00Z');

function setup(options: Partial<OutboxRelayOptions> = {}) {
  const db = new InMemoryDatabase();
  const store = new InMemoryOutboxStore(db);
  const clock = new ManualClock(T0);
  const broker = new ControlledBroker();
  const logger = new RecordingLogger();
  const relay = new OutboxRelay(store, broker, clock, logger, { batchSize: 3, pollIntervalMs: 60_000, minBackoffMs: 2, maxBackoffMs: 10, ...options });
  const commit = (count: number, at = clock.now()) => {
    const events: DomainEvent[] = Array.from({ length: count }, (_, i) => ({
      type: 'auth.user.updated', subject: `user-${i}`, occurredAt: new Date(at.getTime() + i), data: { user_id: `user-${i}` },
    }));
    appendToOutbox(db, events, at);
    return db.tables.outbox.slice(-count).map((row) => row.event.id);
  };
  const pending = () => db.tables.outbox.filter((row) => row.publishedAt === null).map((row) => row.event.id);
  return { db, store, clock, broker, logger, relay, commit, pending };
}

describe('OutboxRelay on the in-memory outbox', () => {
  it('publishes in batches, oldest first, and marks published only what the broker confirmed', async () => {
    const { relay, broker, commit, pending, store } = setup();
    const ids = commit(5);
    broker.refuse.add(ids[1]!);
    await expect(relay.relayBatch()).resolves.toEqual({ claimed: 3, published: 2 });
    expect(broker.received.map((e) => e.id)).toEqual([ids[0], ids[2]]);
    expect(pending()).toEqual([ids[1], ids[3], ids[4]]);
    expect(store.attempts.get(ids[1]!)).toEqual({ count: 1, lastError: 'nacked by broker' });

    broker.refuse.clear();
    await relay.relayBatch();
    await relay.relayBatch();
    expect(pending()).toEqual([]);
    expect(broker.received.map((e) => e.id).sort()).toEqual([...ids].sort());
    await expect(relay.relayBatch()).resolves.toEqual({ claimed: 0, published: 0 });
  });

  it('does not claim while the broker is away, backs off, and delivers everything once it is back', async () => {
    const { relay, broker, commit, pending, logger } = setup();
    const first = commit(1); // committed before the start: the first round (which publishes before its housekeeping) sees it
    relay.start();
    await eventually(() => pending().length === 0);
    broker.available = false;
    const ids = commit(7);
    relay.poke();
    await eventually(() => logger.messages().includes('outbox relay: cannot publish; backing off'));
    expect(broker.received.map((e) => e.id)).toEqual(first);
    expect(pending()).toHaveLength(7);
    broker.available = true;
    await eventually(() => pending().length === 0);
    await relay.stop();
    expect(broker.received.map((e) => e.id)).toEqual([...first, ...ids]);
    expect(logger.messages()).toContain('outbox relay: publishing again');
  });

  it("at start-up waits quietly for the broker's first connection, then delivers", async () => {
    const { relay, broker, commit, pending, logger } = setup();
    broker.available = false;
    const ids = commit(3);
    relay.start();
    relay.poke();
    await new Promise((r) => setTimeout(r, 100)); // rounds run and back off meanwhile
    expect(broker.received).toEqual([]);
    expect(pending()).toHaveLength(3);
    broker.available = true;
    await eventually(() => pending().length === 0);
    await relay.stop();
    expect(broker.received.map((e) => e.id)).toEqual(ids);
    expect(logger.messages().filter((m) => m.startsWith('outbox relay: cannot publish') || m === 'outbox relay: publishing again')).toEqual([]);
  });

  it('a relay that dies while publishing leaves its batch pending for the next one', async () => {
    const { store, broker, commit, pending, clock, logger } = setup();
    const ids = commit(2);
    const dying = new OutboxRelay(store, { isAvailable: () => true, publish: async () => Promise.reject(new Error('killed')) }, clock, logger);
    await expect(dying.relayBatch()).rejects.toThrow('killed');
    expect(pending()).toEqual(ids);
    const next = new OutboxRelay(store, broker, clock, logger);
    await next.relayBatch();
    expect(broker.received.map((e) => e.id)).toEqual(ids);
  });

  it('two relays on one outbox never publish the same event twice and lose none', async () => {
    const { store, broker, commit, pending, clock, logger } = setup();
    const ids = commit(40);
    const options = { batchSize: 4, pollIntervalMs: 60_000 };
    const a = new OutboxRelay(store, broker, clock, logger, options);
    const b = new OutboxRelay(store, broker, clock, logger, options);
    a.start();
    b.start();
    await eventually(() => pending().length === 0);
    await Promise.all([a.stop(), b.stop()]);
    expect(broker.received.map((e) => e.id).sort()).toEqual([...ids].sort());
    expect(a.published).toBeGreaterThan(0);
    expect(b.published).toBeGreaterThan(0);
    expect(a.published + b.published).toBe(40);
  });

  it('wakes at once when poked after a commit instead of waiting for the next poll', async () => {
    const { store, broker, clock, logger, commit, pending } = setup();
    let emptyBatches = 0;
    const counting = {
      ...store,
      pendingStats: () => store.pendingStats(),
      purgePublished: (before: Date) => store.purgePublished(before),
      purgeProcessed: (before: Date) => store.purgeProcessed(before),
      processBatch: async (...args: Parameters<typeof store.processBatch>) => {
        const outcome = await store.processBatch(...args);
        if (outcome.claimed === 0) emptyBatches += 1;
        return outcome;
      },
    };
    const relay = new OutboxRelay(counting, broker, clock, logger, { pollIntervalMs: 60_000 });
    relay.start();
    await eventually(() => emptyBatches === 1, 2000, 'the first (empty) batch'); // now idle for 60 s
    commit(1);
    relay.poke();
    await eventually(() => pending().length === 0, 2000, 'the poked relay to publish');
    await relay.stop();
  });

  it('routine events (logins, failures, registrations) go out together after batchDelayMs; any other event at once', async () => {
    const { db, store, broker, clock, logger, pending } = setup();
    let publishes = 0;
    const counting: EventPublisher = { isAvailable: () => broker.isAvailable(), publish: (events) => ((publishes += 1), broker.publish(events)) };
    const relay = new OutboxRelay(store, counting, clock, logger, { pollIntervalMs: 60_000, batchDelayMs: 1000 });
    relay.start();
    await eventually(() => publishes === 0 && pending().length === 0, 2000, 'the first (empty) round');
    await new Promise((resolve) => setTimeout(resolve, 50));
    // What a unit of work does: the writer puts its wake-up on the transaction's list, run after the commit.
    const commitThroughUnitOfWork = async (type: string, subject: string) => {
      const list = new AfterCommitList();
      openTransaction(db, list, { relay: () => relay.poke(), relaySoon: () => relay.pokeSoon() });
      appendToOutbox(db, [{ type, subject, occurredAt: clock.now(), data: { user_id: subject } }]);
      closeTransaction(db);
      await list.run();
    };
    const started = Date.now();
    for (let i = 0; i < 5; i += 1) await commitThroughUnitOfWork(['auth.user.logged_in', 'auth.user.login_failed', 'auth.user.registered'][i % 3]!, `user-${i}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (Date.now() - started < 900) expect(pending()).toHaveLength(5); // still inside the window: nothing sent yet
    await eventually(() => pending().length === 0, 3000, 'the batched round');
    expect(publishes).toBe(1);
    expect(broker.received).toHaveLength(5);

    const urgent = Date.now();
    await commitThroughUnitOfWork('auth.session.revoked', 'user-9');
    await eventually(() => pending().length === 0, 3000, 'the revocation');
    expect(Date.now() - urgent).toBeLessThan(900); // not held for the batch delay
    expect(publishes).toBe(2);
    await relay.stop();
  });

  it('logs its lag and purges published events after the retention period', async () => {
    const { relay, commit, clock, logger, db } = setup({ retentionMs: 7 * 86_400_000, lagLogIntervalMs: 60_000, lagWarnMs: 60_000 });
    commit(3); // published at T0
    await relay.relayBatch();
    clock.advance(3600);
    commit(1, clock.now()); // pending, created at T0 + 1 h
    clock.advance(120);
    await relay.housekeeping();
    const lag = logger.lines.find((line) => line.message === 'outbox relay lag')!;
    expect(lag.level).toBe('warn');
    expect(lag.fields).toMatchObject({ pending: 1, lag_ms: 120_000, broker: 'up' });

    clock.advance(7 * 86_400);
    await relay.housekeeping();
    expect(db.tables.outbox).toHaveLength(1); // the three published a week ago are gone, the pending one stays
    expect(db.tables.outbox[0]!.publishedAt).toBeNull();
  });
  it('publishes before it purges, and a failed purge only warns: the events still go out (outside review, 2026-12-02)', async () => {
    const { store, clock, broker, logger, commit, pending } = setup();
    const calls: string[] = [];
    const failing = Object.assign(Object.create(store) as typeof store, {
      processBatch: (...args: Parameters<typeof store.processBatch>) => {
        calls.push('batch');
        return store.processBatch(...args);
      },
      purgePublished: async () => {
        calls.push('purge');
        throw new Error('canceling statement due to statement timeout');
      },
    });
    const relay = new OutboxRelay(failing, broker, clock, logger, { batchSize: 3, pollIntervalMs: 60_000, minBackoffMs: 2, maxBackoffMs: 10 });
    const ids = commit(2);
    relay.start();
    await eventually(() => pending().length === 0 && calls.includes('purge'));
    await relay.stop();
    expect(broker.received.map((e) => e.id)).toEqual(ids);
    expect(calls.slice(0, 2)).toEqual(['batch', 'purge']);
    expect(logger.lines.filter((l) => l.message === 'outbox relay: housekeeping failed; will try again')).toHaveLength(1);
    expect(logger.lines.filter((l) => l.message === 'outbox relay: cannot publish; backing off')).toEqual([]);
  });
});
