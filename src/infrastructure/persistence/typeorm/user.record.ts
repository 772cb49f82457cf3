import { Column, Entity, ForeignKey, Index, PrimaryColumn, Unique } from 'typeorm';

/**
 * Row of `users`. Infrastructure only: the domain's User is rebuilt from it by the user mapper. Constraint and
 * index names repeat the migrations' (a test checks that the records and the migrated schema agree).
 */
@Entity({ name: 'users' })
@Unique('users_email_key', ['email'])
@Unique('users_username_key', ['username'])
@Index('users_created_at_id_idx', ['createdAt', 'id'])
@Index('users_last_login_at_id_idx', ['lastLoginAt', 'id'])
// Created by migration GrowthIndexes1764540000000, not described here: (last_login_at DESC NULLS LAST, id DESC),
// and the trigram indexes over the search text (pg_trgm, where available): all users, and the non-active ones
// (InactiveSearchIndex1764550000000).
@Index('users_last_login_at_desc_id_idx', { synchronize: false })
@Index('users_search_trgm_idx', { synchronize: false })
@Index('users_inactive_search_trgm_idx', { synchronize: false })
// Partial, on the active admins (migration 1764590000000): its predicate is lockActiveAdmins' WHERE, word for word.
@Index('users_active_admins_idx', { synchronize: false })
export class UserRecord {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text' })
  email!: string;

  /** A new address awaiting confirmation; never used to log in. */
  @Column({ type: 'text', name: 'pending_email', nullable: true })
  pendingEmail!: string | null;

  @Column({ type: 'text', nullable: true })
  username!: string | null;

  @Column({ type: 'text', name: 'first_name', nullable: true })
  firstName!: string | null;

  @Column({ type: 'text', name: 'last_name', nullable: true })
  lastName!: string | null;

  @Column({ type: 'text' })
  status!: string;

  @Column({ type: 'boolean', name: 'email_verified' })
  emailVerified!: boolean;

  @Column({ type: 'text', array: true })
  roles!: string[];

  @Column({ type: 'boolean', name: 'mfa_enabled', default: false })
  mfaEnabled!: boolean;

  /** Consecutive failed logins of the account, whatever factor failed (moved here from `credentials`). */
  @Column({ type: 'int', name: 'failed_attempts', default: 0 })
  failedAttempts!: number;

  @Column({ type: 'timestamptz', name: 'locked_until', nullable: true })
  lockedUntil!: Date | null;

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', name: 'updated_at' })
  updatedAt!: Date;

  @Column({ type: 'timestamptz', name: 'last_login_at', nullable: true })
  lastLoginAt!: Date | null;

  /**
   * The admin who invited the account (migration 1764660000000). No foreign key on purpose: an inviter deleted
   * leaves the id, and an invitation whose inviter is gone is redeemed without the roles it granted.
   */
  @Column({ type: 'uuid', name: 'invited_by', nullable: true })
  invitedBy!: string | null;
}

/** A credential's attributes besides its secret, as JSON (dates as ISO strings). */
export type CredentialData = Record<string, string | string[] | number | null>;

/**
 * Row of `user_credentials`: one per user and credential type (`password`, later `totp`, `recovery_codes`).
 * `secret` is the credential's one secret in stored form (PHC hash, sealed TOTP secret; null for recovery codes,
 * whose keyed hashes are in `data`); `data` its other attributes (dates as ISO strings). Rows are written only by
 * a unit of work that holds the user row's lock, which is what serialises them.
 */
@Entity({ name: 'user_credentials' })
export class UserCredentialRecord {
  @PrimaryColumn({ type: 'uuid', name: 'user_id' })
  @ForeignKey(() => UserRecord, { name: 'user_credentials_user_id_fkey', onDelete: 'CASCADE' })
  userId!: string;

  @PrimaryColumn({ type: 'text' })
  type!: string;

  @Column({ type: 'text', nullable: true })
  secret!: string | null;

  @Column({ type: 'jsonb' })
  data!: CredentialData;

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', name: 'updated_at' })
  updatedAt!: Date;
}
