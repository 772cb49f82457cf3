import { User, type UserState, type UserStatus } from '@domain/user/user';
import type { QueryDeepPartialEntity } from 'typeorm';
import type { CredentialsRecord, UserRecord } from './user.record';

export interface UserRows {
  user: QueryDeepPartialEntity<UserRecord>;
  credentials: QueryDeepPartialEntity<CredentialsRecord>;
}

/** Domain -> rows, through the aggregate's snapshot (the domain object is never the ORM entity). */
export function toUserRows(user: User): UserRows {
  const { credentials, ...state } = user.toState();
  return {
    user: {
      id: state.id,
      email: state.email,
      pendingEmail: state.pendingEmail,
      username: state.username,
      firstName: state.firstName,
      lastName: state.lastName,
      status: state.status,
      emailVerified: state.emailVerified,
      roles: state.roles,
      mfaEnabled: state.mfaEnabled,
      createdAt: state.createdAt,
      updatedAt: state.updatedAt,
      lastLoginAt: state.lastLoginAt,
    },
    credentials: {
      userId: state.id,
      passwordHash: credentials.passwordHash,
      failedAttempts: credentials.failedAttempts,
      lockedUntil: credentials.lockedUntil,
      passwordChangedAt: credentials.passwordChangedAt,
    },
  };
}

/** Rows -> domain. `record.credentials` must be loaded: every user row has its credentials row. */
export function toUser(record: UserRecord): User {
  const credentials = record.credentials;
  if (!credentials) throw new Error(`users row ${record.id} has no credentials row`);
  const state: UserState = {
    id: record.id,
    email: record.email,
    pendingEmail: record.pendingEmail,
    username: record.username,
    firstName: record.firstName,
    lastName: record.lastName,
    status: record.status as UserStatus,
    emailVerified: record.emailVerified,
    roles: record.roles,
    mfaEnabled: record.mfaEnabled,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    lastLoginAt: record.lastLoginAt,
    credentials: {
      passwordHash: credentials.passwordHash,
      failedAttempts: credentials.failedAttempts,
      lockedUntil: credentials.lockedUntil,
      passwordChangedAt: credentials.passwordChangedAt,
    },
  };
  return User.restore(state);
}
