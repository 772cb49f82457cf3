import type { AuditEventType } from '@application/ports/audit-log';
import type { AuditFilter, AuditPosition, AuditRecord, AuditTrail } from '@application/ports/audit-trail';
import type { EntityManager } from 'typeorm';
import { isUuid } from './uuid';

interface Row {
  id: string;
  type: string;
  outcome: string;
  actor_id: string | null;
  subject_id: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  occurred_at: Date;
}

/**
 * `audit_events` newest first by the keyset (occurred_at, id): served by audit_events_occurred_at_id_idx and, per
 * user, audit_events_subject_id_occurred_at_idx. `reason` is never read: it is for the log only.
 */
export class TypeOrmAuditTrail implements AuditTrail {
  constructor(private readonly manager: EntityManager) {}

  async list(filter: AuditFilter, limit: number, after: AuditPosition | null): Promise<AuditRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (filter.subjectId !== undefined) {
      // The column is uuid: anything else matches nothing (and must not be a cast error).
      if (!isUuid(filter.subjectId)) return [];
      where.push(`subject_id = ${param(filter.subjectId)}`);
    }
    if (filter.types !== undefined) where.push(`type = ANY(${param([...filter.types])})`);
    if (filter.since !== undefined) where.push(`occurred_at >= ${param(filter.since)}`);
    if (filter.until !== undefined) where.push(`occurred_at < ${param(filter.until)}`);
    if (after !== null) where.push(`(occurred_at, id) < (${param(after.occurredAt)}, ${param(after.id)}::uuid)`);
    const rows: Row[] = await this.manager.query(
      `SELECT id, type, outcome, actor_id, subject_id, ip, user_agent, request_id, occurred_at FROM audit_events
       ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY occurred_at DESC, id DESC LIMIT ${param(limit)}`,
      params,
    );
    return rows.map((row) => ({
      id: row.id,
      type: row.type as AuditEventType,
      outcome: row.outcome === 'failure' ? 'failure' : 'success',
      actorId: row.actor_id,
      subjectId: row.subject_id,
      ip: row.ip,
      userAgent: row.user_agent,
      requestId: row.request_id,
      occurredAt: new Date(row.occurred_at),
    }));
  }
}
