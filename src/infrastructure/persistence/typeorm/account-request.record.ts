import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Row of `account_requests` (see AccountRequestRow): the payload is sealed, and cleared once processed. */
@Entity({ name: 'account_requests' })
@Index('account_requests_due_idx', ['nextAttemptAt'], { where: 'processed_at IS NULL' })
@Index('account_requests_pending_username_key', ['username'], { unique: true, where: 'processed_at IS NULL AND username IS NOT NULL' })
@Index('account_requests_processed_at_idx', ['processedAt'], { where: 'processed_at IS NOT NULL' })
export class AccountRequestRecord {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'varchar', length: 32 })
  kind!: string;

  @Column({ type: 'varchar', length: 32, nullable: true })
  username!: string | null;

  @Column({ type: 'text', name: 'sealed_payload', nullable: true })
  sealedPayload!: string | null;

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'int', default: 0 })
  attempts!: number;

  /** The failed attempts that were the request's own (outages not counted): what the attempt limit counts. */
  @Column({ type: 'int', default: 0 })
  failures!: number;

  @Column({ type: 'timestamptz', name: 'next_attempt_at' })
  nextAttemptAt!: Date;

  @Column({ type: 'timestamptz', name: 'locked_until', nullable: true })
  lockedUntil!: Date | null;

  @Column({ type: 'uuid', name: 'claim_id', nullable: true })
  claimId!: string | null;

  @Column({ type: 'timestamptz', name: 'processed_at', nullable: true })
  processedAt!: Date | null;

  @Column({ type: 'text', name: 'last_error', nullable: true })
  lastError!: string | null;
}
