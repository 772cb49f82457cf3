import type { AuditEventType } from './audit-log';

/** An audit entry as read back: the stored entry with its id (never its internal `reason`). */
export interface AuditRecord {
  id: string;
  type: AuditEventType;
  outcome: 'success' | 'failure';
  actorId: string | null;
  subjectId: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  occurredAt: Date;
}

/** Where a page ends: the last record's instant and id (the keyset). */
export interface AuditPosition {
  occurredAt: Date;
  id: string;
}

export interface AuditFilter {
  subjectId?: string;
  /** Any of these types. */
  types?: readonly AuditEventType[];
  /** occurred_at >= since */
  since?: Date;
  /** occurred_at < until */
  until?: Date;
}

/**
 * Reads the audit trail newest first, by keyset (occurred_at, id) descending: a page starts strictly after
 * `after`, so entries written meanwhile never shift or repeat a page.
 */
export interface AuditTrail {
  list(filter: AuditFilter, limit: number, after: AuditPosition | null): Promise<AuditRecord[]>;
}
