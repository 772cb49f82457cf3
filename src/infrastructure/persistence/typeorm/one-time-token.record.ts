import { Column, Entity, ForeignKey, Index, PrimaryColumn, Unique } from 'typeorm';
import { UserRecord } from './user.record';

/** Row of `one_time_tokens`. */
@Entity({ name: 'one_time_tokens' })
@Unique('one_time_tokens_token_hash_key', ['tokenHash'])
@Index('one_time_tokens_user_id_purpose_idx', ['userId', 'purpose'])
export class OneTimeTokenRecord {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'uuid', name: 'user_id' })
  @ForeignKey(() => UserRecord, { name: 'one_time_tokens_user_id_fkey', onDelete: 'CASCADE' })
  userId!: string;

  @Column({ type: 'text' })
  purpose!: string;

  @Column({ type: 'text', name: 'token_hash' })
  tokenHash!: string;

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', name: 'expires_at' })
  expiresAt!: Date;

  @Column({ type: 'timestamptz', name: 'consumed_at', nullable: true })
  consumedAt!: Date | null;
}
