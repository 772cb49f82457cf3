import type { AuditFilter, AuditPosition, AuditRecord, AuditTrail } from '../ports/audit-trail';

export interface AuditPage {
  records: AuditRecord[];
  /** Where the next page starts; null on the last page. */
  next: AuditPosition | null;
}

/** One page by keyset: one record more than asked tells whether another page follows. */
export async function auditPage(trail: AuditTrail, filter: AuditFilter, limit: number, after: AuditPosition | null): Promise<AuditPage> {
  const found = await trail.list(filter, limit + 1, after);
  const records = found.slice(0, limit);
  const last = records.at(-1);
  return { records, next: found.length > limit && last ? { occurredAt: last.occurredAt, id: last.id } : null };
}
