import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Row of `audit_events`: who did what to whom, from where, with which outcome. Append-only. No foreign keys:
 * the trail must outlive the account it is about (account deletion is itself audited).
 */
@Entity({ name: 'audit_events' })
@Index('audit_events_subject_id_occurred_at_id_idx', ['subjectId', 'occurredAt', 'id'])
@Index('audit_events_occurred_at_id_idx', ['occurredAt', 'id'])
@Index('audit_events_type_occurred_at_id_idx', ['type', 'occurredAt', 'id'])
export class AuditEventRecord {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'timestamptz', name: 'occurred_at' })
  occurredAt!: Date;

  @Column({ type: 'text' })
  type!: string;

  @Column({ type: 'text' })
  outcome!: string;

  @Column({ type: 'uuid', name: 'actor_id', nullable: true })
  actorId!: string | null;

  @Column({ type: 'uuid', name: 'subject_id', nullable: true })
  subjectId!: string | null;

  @Column({ type: 'text', nullable: true })
  ip!: string | null;

  @Column({ type: 'text', name: 'user_agent', nullable: true })
  userAgent!: string | null;

  @Column({ type: 'text', name: 'request_id', nullable: true })
  requestId!: string | null;

  @Column({ type: 'text', nullable: true })
  reason!: string | null;
}
