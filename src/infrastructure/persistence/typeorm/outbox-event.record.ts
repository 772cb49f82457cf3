import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { CloudEvent } from '@infrastructure/messaging/cloud-event';

/** Row of `outbox_events`: a CloudEvent written in the transaction that caused it, published later. */
@Entity({ name: 'outbox_events' })
// The relay's claim: due rows (next_attempt_at <= now) in claim order, pending ones only.
@Index('outbox_events_unpublished_idx', ['nextAttemptAt', 'createdAt', 'seq'], { where: 'published_at IS NULL' })
@Index('outbox_events_published_at_idx', ['publishedAt'], { where: 'published_at IS NOT NULL' })
export class OutboxEventRecord {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text' })
  type!: string;

  @Column({ type: 'text' })
  subject!: string;

  @Column({ type: 'jsonb' })
  payload!: CloudEvent;

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', name: 'published_at', nullable: true })
  publishedAt!: Date | null;

  @Column({ type: 'int', default: 0 })
  attempts!: number;

  @Column({ type: 'text', name: 'last_error', nullable: true })
  lastError!: string | null;

  /** When a refused row may be claimed again; '-infinity' (the default) for a row never refused: due at once. */
  @Column({ type: 'timestamptz', name: 'next_attempt_at', default: () => "'-infinity'" })
  nextAttemptAt!: Date;

  /**
   * Taken by the INSERT (an identity, never written by the service): the order rows were recorded in, the claim's
   * tie-break between the events of one commit, which share their `created_at`. pg reads a bigint as a string.
   */
  @Column({ type: 'bigint', generated: 'identity', generatedIdentity: 'ALWAYS', insert: false, update: false })
  seq!: string;
}
