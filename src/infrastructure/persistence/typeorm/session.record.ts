import { Column, Entity, ForeignKey, Index, PrimaryColumn, Unique } from 'typeorm';
import { UserRecord } from './user.record';

/** Row of `sessions`. */
@Entity({ name: 'sessions' })
@Unique('sessions_refresh_token_hash_key', ['refreshTokenHash'])
@Index('sessions_user_id_idx', ['userId'])
@Index('sessions_previous_token_hash_idx', ['previousTokenHash'])
// The purge job's expression index (migration GrowthIndexes1764540000000), not described here.
@Index('sessions_purge_at_idx', { synchronize: false })
// An account's live sessions newest first (migration SessionsLiveByUser1764680000000: partial, DESC), not described here.
@Index('sessions_user_live_idx', { synchronize: false })
export class SessionRecord {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'uuid', name: 'user_id' })
  @ForeignKey(() => UserRecord, { name: 'sessions_user_id_fkey', onDelete: 'CASCADE' })
  userId!: string;

  @Column({ type: 'text', name: 'refresh_token_hash' })
  refreshTokenHash!: string;

  @Column({ type: 'text', name: 'sealed_refresh_token' })
  sealedRefreshToken!: string;

  @Column({ type: 'text', name: 'previous_token_hash', nullable: true })
  previousTokenHash!: string | null;

  @Column({ type: 'timestamptz', name: 'rotated_at', nullable: true })
  rotatedAt!: Date | null;

  @Column({ type: 'text', array: true })
  amr!: string[];

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', name: 'last_used_at' })
  lastUsedAt!: Date;

  @Column({ type: 'timestamptz', name: 'expires_at' })
  expiresAt!: Date;

  @Column({ type: 'timestamptz', name: 'absolute_expires_at' })
  absoluteExpiresAt!: Date;

  @Column({ type: 'timestamptz', name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;

  @Column({ type: 'text', name: 'revoke_reason', nullable: true })
  revokeReason!: string | null;

  @Column({ type: 'text', nullable: true })
  ip!: string | null;

  @Column({ type: 'text', name: 'user_agent', nullable: true })
  userAgent!: string | null;
}

/** Row of `refresh_token_history`: a refresh-token hash that rotated out of its session (reuse detection). */
@Entity({ name: 'refresh_token_history' })
@Index('refresh_token_history_session_id_idx', ['sessionId'])
export class RefreshTokenHistoryRecord {
  @PrimaryColumn({ type: 'text', name: 'token_hash' })
  tokenHash!: string;

  @Column({ type: 'uuid', name: 'session_id' })
  @ForeignKey(() => SessionRecord, { name: 'refresh_token_history_session_id_fkey', onDelete: 'CASCADE' })
  sessionId!: string;

  @Column({ type: 'timestamptz', name: 'retired_at' })
  retiredAt!: Date;
}
