import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Row of `email_outbox` (see QueuedEmailRow): the bodies are sealed, never stored readable. */
@Entity({ name: 'email_outbox' })
@Index('email_outbox_due_idx', ['nextAttemptAt'], { where: 'sent_at IS NULL AND failed_at IS NULL' })
@Index('email_outbox_sent_at_idx', ['sentAt'], { where: 'sent_at IS NOT NULL' })
@Index('email_outbox_failed_at_idx', ['failedAt'], { where: 'failed_at IS NOT NULL' })
export class EmailOutboxRecord {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text' })
  recipient!: string;

  @Column({ type: 'text' })
  subject!: string;

  /** NULL once sent (QueuedEmailRow). */
  @Column({ type: 'text', name: 'sealed_text', nullable: true })
  sealedText!: string | null;

  @Column({ type: 'text', name: 'sealed_html', nullable: true })
  sealedHtml!: string | null;

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'int', default: 0 })
  attempts!: number;

  @Column({ type: 'int', name: 'message_failures', default: 0 })
  messageFailures!: number;

  @Column({ type: 'timestamptz', name: 'next_attempt_at' })
  nextAttemptAt!: Date;

  @Column({ type: 'timestamptz', name: 'locked_until', nullable: true })
  lockedUntil!: Date | null;

  @Column({ type: 'uuid', name: 'claim_id', nullable: true })
  claimId!: string | null;

  @Column({ type: 'timestamptz', name: 'sent_at', nullable: true })
  sentAt!: Date | null;

  @Column({ type: 'timestamptz', name: 'failed_at', nullable: true })
  failedAt!: Date | null;

  @Column({ type: 'text', name: 'last_error', nullable: true })
  lastError!: string | null;
}
