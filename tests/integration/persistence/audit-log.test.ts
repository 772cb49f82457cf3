import { randomUUID } from 'node:crypto';
import { ADAPTERS, type Store } from '../../support/persistence';
import { anAuditEntry, at } from '../../support/mothers';

/** The AuditLog contract: append-only, written with the unit of work, on every adapter. */
describe.each(ADAPTERS)('AuditLog on $name', (adapter) => {
  let store: Store;

  beforeAll(async () => {
    store = await adapter.start();
  });
  afterAll(async () => store?.stop());

  const entriesOf = async (requestId: string) => (await store.auditEntries()).filter((entry) => entry.requestId === requestId);

  it('appends an entry with every field, time in UTC', async () => {
    const entry = anAuditEntry({ actorId: randomUUID() });
    await store.uow.run((tx) => tx.audit.record(entry));
    const [stored, ...rest] = await entriesOf(entry.requestId!);
    expect(rest).toEqual([]);
    expect(stored).toEqual(entry);
    expect(stored!.occurredAt.toISOString()).toBe('2026-03-01T12:00:00.000Z');
  });

  it('rolls back with the unit of work it was written in', async () => {
    const entry = anAuditEntry();
    const failure = new Error('the change failed');
    await expect(
      store.uow.run(async (tx) => {
        await tx.audit.record(entry);
        throw failure;
      }),
    ).rejects.toBe(failure);
    await expect(entriesOf(entry.requestId!)).resolves.toEqual([]);
  });

  it('keeps entries without a known subject (unknown account), and every entry of one request in time order', async () => {
    const requestId = `req-${randomUUID()}`;
    const second = anAuditEntry({ subjectId: null, reason: 'unknown_account', requestId, occurredAt: at('2026-03-01T12:00:02.000Z') });
    const first = anAuditEntry({ requestId, occurredAt: at('2026-03-01T12:00:01.000Z') });
    await store.uow.run(async (tx) => {
      await tx.audit.record(second);
      await tx.audit.record(first);
    });
    await expect(entriesOf(requestId)).resolves.toEqual([first, second]);
  });
});
