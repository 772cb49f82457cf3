import { randomUUID } from 'node:crypto';
import type { AuditEntry, AuditLog } from '@application/ports/audit-log';
import type { InMemoryDatabase } from './in-memory-database';

/** Appends to the in-memory `auditEvents` table: rolled back with the rest when the unit of work fails. */
export class InMemoryAuditLog implements AuditLog {
  constructor(private readonly db: InMemoryDatabase) {}

  async record(entry: AuditEntry): Promise<void> {
    this.db.tables.auditEvents.push({ ...structuredClone(entry), id: randomUUID() });
  }
}
