import type { AuditFilter, AuditPosition, AuditRecord, AuditTrail } from '@application/ports/audit-trail';
import type { InMemoryDatabase } from './in-memory-database';

/** The SQL adapter's keyset order over the in-memory entries: (occurredAt, id) descending. */
export class InMemoryAuditTrail implements AuditTrail {
  constructor(private readonly db: InMemoryDatabase) {}

  async list(filter: AuditFilter, limit: number, after: AuditPosition | null): Promise<AuditRecord[]> {
    const before = (e: { occurredAt: Date; id: string }, p: AuditPosition) =>
      e.occurredAt.getTime() < p.occurredAt.getTime() || (e.occurredAt.getTime() === p.occurredAt.getTime() && e.id < p.id);
    return this.db.tables.auditEvents
      .filter(
        (e) =>
          (filter.subjectId === undefined || e.subjectId === filter.subjectId) &&
          (filter.types === undefined || filter.types.includes(e.type)) &&
          (filter.since === undefined || e.occurredAt.getTime() >= filter.since.getTime()) &&
          (filter.until === undefined || e.occurredAt.getTime() < filter.until.getTime()) &&
          (after === null || before(e, after)),
      )
      .sort((a, b) => b.occurredAt.getTime() - a.occurredAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .slice(0, limit)
      .map(({ reason: _reason, ...entry }) => structuredClone(entry));
  }
}
