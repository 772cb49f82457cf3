import {
  CREDENTIAL_TYPES,
  type Credential,
  type CredentialType,
  type CredentialsByType,
} from '@domain/user/credentials';
import { User, type UserState, type UserStatus } from '@domain/user/user';
import type { QueryDeepPartialEntity } from 'typeorm';
import type { CredentialData, UserRecord } from './user.record';

/** A `user_credentials` row's content (its key is the user id and the type). */
export interface CredentialRow {
  secret: string | null;
  data: CredentialData;
}

/** Every credential type, present or not (null): what the repository diffs to INSERT, UPDATE or DELETE rows. */
export type CredentialRows = Record<CredentialType, CredentialRow | null>;

export interface UserRows {
  user: QueryDeepPartialEntity<UserRecord>;
  credentials: CredentialRows;
}

/** A `users` row with its credentials as the hot read returns them (json_agg of `{type, secret, data}`). */
export type UserRecordWithCredentials = UserRecord & { credentials: unknown };

/** Domain -> rows, through the aggregate's snapshot (the domain object is never the ORM entity). */
export function toUserRows(user: User): UserRows {
  const { credentials, ...state } = user.toState();
  const rows = {} as CredentialRows;
  for (const type of CREDENTIAL_TYPES) {
    const credential = credentials.byType[type];
    rows[type] = credential ? toCredentialRow(credential) : null;
  }
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
      failedAttempts: credentials.failedAttempts,
      lockedUntil: credentials.lockedUntil,
      createdAt: state.createdAt,
      updatedAt: state.updatedAt,
      lastLoginAt: state.lastLoginAt,
      invitedBy: state.invitedBy,
    },
    credentials: rows,
  };
}

function toCredentialRow(credential: Credential): CredentialRow {
  switch (credential.type) {
    case 'password':
      return { secret: credential.hash, data: { changed_at: credential.changedAt.toISOString() } };
    case 'totp':
      return {
        secret: credential.sealedSecret,
        data: {
          confirmed_at: credential.confirmedAt?.toISOString() ?? null,
          created_at: credential.createdAt.toISOString(),
          ...(credential.lastUsedStep === undefined ? {} : { last_used_step: credential.lastUsedStep }),
        },
      };
    case 'recovery_codes':
      return {
        secret: null,
        data: {
          code_hashes: [...credential.codeHashes],
          created_at: credential.createdAt.toISOString(),
          ...(credential.spentHashes === undefined ? {} : { spent_hashes: [...credential.spentHashes] }),
        },
      };
  }
}

/** Rows -> domain. `record.credentials` is the JSON array of the user's credential rows (possibly empty). */
export function toUser(record: UserRecordWithCredentials): User {
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
    invitedBy: record.invitedBy,
    credentials: {
      byType: toCredentials(record.id, record.credentials),
      failedAttempts: record.failedAttempts,
      lockedUntil: record.lockedUntil,
    },
  };
  return User.restore(state);
}

/** Checked member by member: a row the domain cannot read is corrupt data, an error, never a guess. */
function toCredentials(userId: string, raw: unknown): CredentialsByType {
  if (!Array.isArray(raw)) throw corrupt(userId, 'credentials are not a list');
  const byType: CredentialsByType = {};
  for (const item of raw as unknown[]) {
    const row = item as { type?: unknown; secret?: unknown; data?: unknown };
    const data = (typeof row.data === 'object' && row.data !== null ? row.data : {}) as Record<string, unknown>;
    const secret = typeof row.secret === 'string' ? row.secret : null;
    if (row.type === 'password' && secret !== null) {
      byType.password = { type: 'password', hash: secret, changedAt: date(userId, data['changed_at']) };
    } else if (row.type === 'totp' && secret !== null) {
      const confirmed = data['confirmed_at'];
      const lastUsedStep = data['last_used_step'];
      if (lastUsedStep !== undefined && !Number.isSafeInteger(lastUsedStep)) throw corrupt(userId, 'last_used_step is not an integer');
      byType.totp = {
        type: 'totp',
        sealedSecret: secret,
        confirmedAt: confirmed === null ? null : date(userId, confirmed),
        createdAt: date(userId, data['created_at']),
        ...(typeof lastUsedStep === 'number' ? { lastUsedStep } : {}),
      };
    } else if (row.type === 'recovery_codes' && isStringArray(data['code_hashes'])) {
      const spent = data['spent_hashes'];
      if (spent !== undefined && !isStringArray(spent)) throw corrupt(userId, 'spent_hashes is not a list of strings');
      byType.recovery_codes = {
        type: 'recovery_codes',
        codeHashes: [...data['code_hashes']],
        createdAt: date(userId, data['created_at']),
        ...(spent === undefined ? {} : { spentHashes: [...spent] }),
      };
    } else {
      throw corrupt(userId, `unreadable credential of type ${String(row.type)}`);
    }
  }
  return byType;
}

function date(userId: string, value: unknown): Date {
  const parsed = typeof value === 'string' ? new Date(value) : null;
  if (parsed === null || Number.isNaN(parsed.getTime())) throw corrupt(userId, 'a credential date is not an ISO string');
  return parsed;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function corrupt(userId: string, why: string): Error {
  return new Error(`user_credentials of user ${userId}: ${why}`);
}
