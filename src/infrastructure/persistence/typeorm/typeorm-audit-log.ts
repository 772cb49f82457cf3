import { randomUUID } from 'node:crypto';
import type { AuditEntry, AuditLog } from '@application/ports/audit-log';
import type { EntityManager } from 'typeorm';
import { AuditEventRecord } from './audit-event.record';
import { appendRows } from './transaction-appends';
import { isUuid } from './uuid';

/** Appends to `audit_events` through the given EntityManager: inside a unit of work, with the change it
 * records (held until the work is done: transaction-appends.ts). */
export class TypeOrmAuditLog implements AuditLog {
  constructor(private readonly manager: EntityManager) {}

  async record(entry: AuditEntry): Promise<void> {
    await appendRows(this.manager, AuditEventRecord, [{
      id: randomUUID(),
      occurredAt: entry.occurredAt,
      type: entry.type,
      outcome: entry.outcome,
      // The columns are uuid: anything else (never expected) is dropped rather than failing the change.
      actorId: entry.actorId !== null && isUuid(entry.actorId) ? entry.actorId : null,
      subjectId: entry.subjectId !== null && isUuid(entry.subjectId) ? entry.subjectId : null,
      ip: entry.ip,
      userAgent: entry.userAgent,
      requestId: entry.requestId,
      reason: entry.reason,
    }]);
  }
}
