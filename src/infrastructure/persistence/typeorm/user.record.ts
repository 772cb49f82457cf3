import { Column, Entity, JoinColumn, OneToOne, PrimaryColumn, type Relation, Unique } from 'typeorm';

/**
 * Row of `users`. Infrastructure only: the domain's User is rebuilt from it by the user mapper. Relations are
 * typed `Relation<>` so decorator metadata does not reference a class before it is defined. Constraint and
 * index names repeat the migrations' (a test checks that the records and the migrated schema agree).
 */
@Entity({ name: 'users' })
@Unique('users_email_key', ['email'])
@Unique('users_username_key', ['username'])
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

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', name: 'updated_at' })
  updatedAt!: Date;

  @Column({ type: 'timestamptz', name: 'last_login_at', nullable: true })
  lastLoginAt!: Date | null;

  @OneToOne(() => CredentialsRecord, (credentials) => credentials.user)
  credentials?: Relation<CredentialsRecord>;
}

/** Row of `credentials`, one per user (same primary key). */
@Entity({ name: 'credentials' })
export class CredentialsRecord {
  @PrimaryColumn({ type: 'uuid', name: 'user_id' })
  userId!: string;

  @OneToOne(() => UserRecord, (user) => user.credentials, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'credentials_user_id_fkey' })
  user?: Relation<UserRecord>;

  @Column({ type: 'text', name: 'password_hash' })
  passwordHash!: string;

  @Column({ type: 'int', name: 'failed_attempts', default: 0 })
  failedAttempts!: number;

  @Column({ type: 'timestamptz', name: 'locked_until', nullable: true })
  lockedUntil!: Date | null;

  @Column({ type: 'timestamptz', name: 'password_changed_at' })
  passwordChangedAt!: Date;
}
