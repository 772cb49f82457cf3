import type { DomainEvent } from '@domain/shared/domain-event';
import { TypeOrmOutboxStore } from '@infrastructure/persistence/typeorm/typeorm-outbox-store';
import { OutboxEventRecord } from '@infrastructure/persistence/typeorm/entities';
import { TypeOrmOutboxWriter } from '@infrastructure/persistence/typeorm/outbox-writer';
import { TypeOrmProcessedEvents } from '@infrastructure/persistence/typeorm/typeorm-processed-events';
import { backends, type TestDatabase } from './support/backends';

const T0 = new Date('2026-03-01T12:00:00.000Z');

describe.each(backends)('relay storage on $name', (backend) => {
  let db: TestDatabase;
  let store: TypeOrmOutboxStore;

  beforeAll(async () => {
    db = await backend.start();
    store = new TypeOrmOutboxStore(db.dataSource);
  });
  afterAll(async () => {
    await db?.stop();
  });
  beforeEach(async () => {
    await db.dataSource.query('DELETE FROM outbox_events');
  });

  const commit = async (count: number, at = T0): Promise<void> => {
    const events: DomainEvent[] = Array.from({ length: count }, (_, i) => ({
      type: 'auth.user.updated', subject: `s${i}`, occurredAt: new Date(at.getTime() + i * 1000), data: { user_id: `s${i}` },
    }));
    await db.dataSource.transaction((manager) => new TypeOrmOutboxWriter(manager).write(events));
  };
  const rows = () => db.dataSource.manager.find(OutboxEventRecord, { order: { createdAt: 'ASC' } });

  it('claims the oldest pending rows, marks the confirmed ones and counts an attempt with the error on the others', async () => {
    await commit(4);
    const before = await rows();
    const outcome = await store.processBatch(3, T0, async (events) => {
      expect(events.map((e) => e.id)).toEqual(before.slice(0, 3).map((r) => r.id));
      expect(events[0]).toEqual(before[0]!.payload);
      return { confirmed: [events[0]!.id, events[2]!.id], failed: [{ id: events[1]!.id, error: 'nacked' }] };
    });
    expect(outcome).toEqual({ claimed: 3, published: 2 });
    const after = await rows();
    expect(after.map((r) => [r.publishedAt?.toISOString() ?? null, r.attempts, r.lastError])).toEqual([
      [T0.toISOString(), 1, null],
      [null, 1, 'nacked'],
      [T0.toISOString(), 1, null],
      [null, 0, null],
    ]);
    await expect(store.pendingStats()).resolves.toEqual({ pending: 2, oldestCreatedAt: before[1]!.createdAt });
  });

  it('a publish that throws (a crash) rolls the claim back and marks nothing', async () => {
    await commit(2);
    await expect(store.processBatch(10, T0, async () => Promise.reject(new Error('killed')))).rejects.toThrow('killed');
    expect((await rows()).map((r) => [r.publishedAt, r.attempts])).toEqual([[null, 0], [null, 0]]);
  });

  it('purges published rows older than the cut-off only', async () => {
    await commit(3);
    await store.processBatch(2, T0, async (events) => ({ confirmed: events.map((e) => e.id), failed: [] }));
    await expect(store.purgePublished(T0)).resolves.toBe(0);
    await expect(store.purgePublished(new Date(T0.getTime() + 1))).resolves.toBe(2);
    expect(await rows()).toHaveLength(1);
  });

  it('processed_events: the second record of one (subscriber, event) is refused, another subscriber may record it', async () => {
    const processed = new TypeOrmProcessedEvents(db.dataSource.manager);
    await expect(processed.add('mailer', 'evt-1', T0)).resolves.toBe(true);
    await expect(processed.add('mailer', 'evt-1', T0)).resolves.toBe(false);
    await expect(processed.add('audit', 'evt-1', T0)).resolves.toBe(true);
    await processed.add('mailer', 'evt-2', new Date(T0.getTime() + 1000));
    await expect(store.purgeProcessed(new Date(T0.getTime() + 1))).resolves.toBe(2);
    await expect(processed.add('mailer', 'evt-2', T0)).resolves.toBe(false); // the newer record stayed
  });
});
