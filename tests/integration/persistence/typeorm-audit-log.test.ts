import { randomUUID } from 'node:crypto';
import type { AuditEntry } from '@application/ports/audit-log';
import { AuditEventRecord } from '@infrastructure/persistence/typeorm/entities';
import { TypeOrmUnitOfWork } from '@infrastructure/persistence/typeorm/typeorm-unit-of-work';
import { backends, type TestDatabase } from './support/backends';
import { testRepositoryOptions } from '../../support/repository-options';

function anEntry(overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    type: 'login.failed',
    outcome: 'failure',
    actorId: null,
    subjectId: randomUUID(),
    reason: 'wrong_password',
    ip: '203.0.113.9',
    userAgent: 'curl/8',
    requestId: 'req-1',
    occurredAt: new Date('2026-03-01T12:00:00.000Z'),
    ...overrides,
  };
}

describe.each(backends)('TypeOrmAuditLog on $name', (backend) => {
  let db: TestDatabase;
  let uow: TypeOrmUnitOfWork;

  beforeAll(async () => {
    db = await backend.start();
    uow = new TypeOrmUnitOfWork(db.dataSource, testRepositoryOptions());
  });
  afterAll(async () => {
    await db?.stop();
  });

  it('appends an entry with every field, time in UTC', async () => {
    const entry = anEntry({ actorId: randomUUID() });
    await uow.run((repos) => repos.audit.record(entry));

    const rows = await db.dataSource.manager.findBy(AuditEventRecord, { subjectId: entry.subjectId! });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      type: 'login.failed',
      outcome: 'failure',
      actorId: entry.actorId,
      subjectId: entry.subjectId,
      reason: 'wrong_password',
      ip: '203.0.113.9',
      userAgent: 'curl/8',
      requestId: 'req-1',
    });
    expect(rows[0]!.occurredAt.toISOString()).toBe('2026-03-01T12:00:00.000Z');
  });

  it('rolls back with the unit of work it was written in', async () => {
    const entry = anEntry();
    const failure = new Error('the change failed');
    await expect(
      uow.run(async (repos) => {
        await repos.audit.record(entry);
        throw failure;
      }),
    ).rejects.toBe(failure);
    await expect(db.dataSource.manager.countBy(AuditEventRecord, { subjectId: entry.subjectId! })).resolves.toBe(0);
  });

  it('keeps entries without a known subject (unknown account)', async () => {
    const requestId = `req-${randomUUID()}`;
    await uow.run((repos) => repos.audit.record(anEntry({ subjectId: null, reason: 'unknown_account', requestId })));
    await expect(db.dataSource.manager.countBy(AuditEventRecord, { requestId })).resolves.toBe(1);
  });
});
