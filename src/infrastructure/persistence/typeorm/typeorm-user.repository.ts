import { Errors } from '@application/shared/errors';
import { CREDENTIAL_TYPES } from '@domain/user/credentials';
import type { User } from '@domain/user/user';
import type { UserRepository } from '@domain/user/user.repository';
import type { EntityManager, QueryDeepPartialEntity } from 'typeorm';
import { LockedRows, sameValue } from '../locked-rows';
import { holdGuardedUserAdd, holdGuardedUserSave, isGuarded, rememberReadVersion } from './guarded-write';
import { TypeOrmOutboxWriter } from './outbox-writer';
import { violatedUniqueConstraint } from './pg-errors';
import { preparedQuery } from './prepared-query';
import { insertRows, type RowBatch } from './raw-insert';
import { selectList } from './raw-select';
import { updateRows } from './raw-update';
import { isUuid } from './uuid';
import { toUser, toUserRows, type CredentialRow, type CredentialRows, type UserRecordWithCredentials, type UserRows } from './user.mapper';
import { UserCredentialRecord, UserRecord } from './user.record';

type UserRow = UserRows['user'];

/** The user's credential rows as one JSON array: the hot read stays one query, whatever the number of types. */
export const CREDENTIALS_JSON = `COALESCE((SELECT json_agg(json_build_object('type', c.type, 'secret', c.secret, 'data', c.data) ORDER BY c.type)
  FROM user_credentials c WHERE c.user_id = u.id), '[]'::json) AS "credentials"`;

/**
 * The active admins (with a password), locked in id order. Its first two conditions are the partial index
 * users_active_admins_idx's predicate, word for word: the planner reads the few admin rows, not every user.
 */
export const LOCK_ACTIVE_ADMINS_SQL = `SELECT id FROM users u WHERE status = 'active' AND 'admin' = ANY(roles)
         AND EXISTS (SELECT 1 FROM user_credentials c WHERE c.user_id = u.id AND c.type = 'password')
       ORDER BY id FOR NO KEY UPDATE`;

/**
 * Users and their credentials (`users` + `user_credentials`, one row per credential type). Bound to one
 * EntityManager: the transaction's inside a unit of work.
 * The lock is FOR NO KEY UPDATE on the users row: it serialises every writer of the account, yet does not
 * conflict with the KEY SHARE lock that inserting a session or a credential (rows referencing the user) takes,
 * so a login holding the user lock can insert its session and two logins of one user queue instead of
 * deadlocking. Credential rows are written only under that lock (save needs it), so it serialises them too.
 */
export class TypeOrmUserRepository implements UserRepository {
  private readonly outbox: TypeOrmOutboxWriter;
  private readonly users = new LockedRows<User, UserRow>('users');
  private readonly credentials = new LockedRows<User, CredentialRows>('user_credentials');

  constructor(private readonly manager: EntityManager) {
    this.outbox = new TypeOrmOutboxWriter(manager);
  }

  async findById(id: string): Promise<User | null> {
    return isUuid(id) ? this.findOne('id', id) : null;
  }

  findByEmail(email: string): Promise<User | null> {
    return this.findOne('email', email);
  }

  findByUsername(username: string): Promise<User | null> {
    return this.findOne('username', username);
  }

  async findByIdForUpdate(id: string): Promise<User | null> {
    if (!isUuid(id)) return null;
    // Lock, then read in a new statement. One statement would read user_credentials (a subquery, not locked)
    // with the snapshot taken before waiting for the lock: a password changed meanwhile would read as the old
    // one. In READ COMMITTED the next statement sees everything committed before the lock was granted.
    const locked = await preparedQuery(this.manager, 'SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE', [id]);
    if (locked.length === 0) return null;
    const user = await this.findOne('id', id);
    if (user) this.remember(user);
    return user;
  }

  /**
   * ORDER BY below the locking clause: rows are locked in id order (no deadlock between two callers). In READ
   * COMMITTED, a row another transaction changed meanwhile is re-checked against the WHERE once its lock is
   * granted, so an admin demoted or suspended by the transaction waited for is left out.
   */
  async lockActiveAdmins(): Promise<string[]> {
    const rows: { id: string }[] = await this.manager.query(LOCK_ACTIVE_ADMINS_SQL);
    return rows.map((row) => row.id);
  }

  async add(user: User): Promise<void> {
    const rows = toUserRows(user);
    if (isGuarded(this.manager)) {
      // UnitOfWork.runInserts: the user's row and its credentials' go with the work's one statement.
      const credentials = CREDENTIAL_TYPES.flatMap((type) => {
        const row = rows.credentials[type];
        const at = rows.user.createdAt;
        return row === null ? [] : [{ userId: user.id, type, secret: row.secret, data: row.data, createdAt: at, updatedAt: at }];
      });
      const row = { target: UserRecord, rows: [rows.user as Partial<UserRecord>] } as RowBatch;
      holdGuardedUserAdd(this.manager, { row, email: user.email, username: user.username }, { target: UserCredentialRecord, rows: credentials } as RowBatch);
      this.remember(user, rows);
      await this.outbox.write(user.pullEvents());
      return;
    }
    try {
      await insertRows(this.manager, UserRecord, [rows.user as Partial<UserRecord>]);
    } catch (error) {
      throw translateUniqueViolation(error);
    }
    const none = Object.fromEntries(CREDENTIAL_TYPES.map((type) => [type, null])) as CredentialRows;
    await this.writeCredentials(user.id, none, rows.credentials);
    this.remember(user, rows);
    await this.outbox.write(user.pullEvents());
  }

  async save(user: User): Promise<void> {
    const rows = toUserRows(user);
    if (isGuarded(this.manager)) {
      // UnitOfWork.runIfUnchanged: written with the guard's one statement, if the row is still the version read.
      holdGuardedUserSave(this.manager, user, rows);
      await this.outbox.write(user.pullEvents());
      return;
    }
    const userChanges = this.users.changes(user, rows.user);
    const previousCredentials = this.credentials.rowOf(user);
    // A credential changed and nothing of the users row: the row is written all the same (its updated_at, unchanged
    // or not), so that its version (xmin) moves, which is what a guarded write checks (guarded-write.ts): a login
    // whose password was checked against a hash changed since must not write.
    if (Object.keys(userChanges).length === 0 && !sameValue(previousCredentials, rows.credentials)) userChanges.updatedAt = rows.user.updatedAt;
    try {
      await this.update(UserRecord, { id: user.id }, userChanges);
    } catch (error) {
      throw translateUniqueViolation(error);
    }
    await this.writeCredentials(user.id, previousCredentials, rows.credentials);
    this.remember(user, rows);
    await this.outbox.write(user.pullEvents());
  }

  /** Credentials, sessions (with their token history) and one-time tokens go by ON DELETE CASCADE. */
  async delete(user: User): Promise<void> {
    this.users.assertLocked(user);
    await this.outbox.write(user.pullEvents());
    await this.manager.delete(UserRecord, { id: user.id });
  }

  private remember(user: User, rows: UserRows = toUserRows(user)): void {
    this.users.remember(user, rows.user);
    this.credentials.remember(user, rows.credentials);
  }

  /**
   * Per credential type: INSERT a new one, DELETE a removed one, UPDATE the changed columns of one that stays
   * (it must exist: this transaction holds the user's lock). Unchanged types cost nothing.
   */
  private async writeCredentials(userId: string, before: CredentialRows, after: CredentialRows): Promise<void> {
    for (const type of CREDENTIAL_TYPES) {
      const previous = before[type];
      const next = after[type];
      if (previous === null && next !== null) {
        const now = () => 'now()';
        await this.manager.insert(UserCredentialRecord, { userId, type, secret: next.secret, data: next.data, createdAt: now, updatedAt: now });
      } else if (previous !== null && next === null) {
        const result = await this.manager.delete(UserCredentialRecord, { userId, type });
        if (result.affected !== 1) throw new Error('UserCredentialRecord: the locked row to delete is gone');
      } else if (previous !== null && next !== null) {
        const changes = changedColumns(previous, next);
        if (Object.keys(changes).length > 0) await this.update(UserCredentialRecord, { userId, type }, { ...changes, updatedAt: () => 'now()' });
      }
    }
  }

  /** UPDATE of the changed columns of a row that must exist (it is locked by this transaction). */
  private async update<T extends UserRecord | UserCredentialRecord>(
    target: new () => T,
    where: Partial<T>,
    changes: QueryDeepPartialEntity<T>,
  ): Promise<void> {
    if (Object.keys(changes).length === 0) return;
    const affected = await updateRows(this.manager, target, where, changes as Record<string, unknown>);
    if (affected !== 1) throw new Error(`${target.name}: the locked row to update is gone`);
  }

  private async findOne(column: 'id' | 'email' | 'username', value: string): Promise<User | null> {
    // A named prepared statement (parsed and planned once per connection): every login reads the user twice, by
    // email and then under the lock by id (README, SQL per request).
    // With the row's version (xmin), for a guarded write of this user (UnitOfWork.runIfUnchanged).
    const rows = (await preparedQuery(
      this.manager,
      `SELECT ${selectList(this.manager, UserRecord, 'u')}, ${CREDENTIALS_JSON}, u.xmin::text AS "rowVersion" FROM users u WHERE u.${column} = $1`,
      [value],
    )) as unknown as (UserRecordWithCredentials & { rowVersion: string })[];
    const record = rows[0];
    if (!record) return null;
    const user = toUser(record);
    rememberReadVersion(user, record.rowVersion, record);
    return user;
  }
}

function changedColumns(previous: CredentialRow, next: CredentialRow): Partial<CredentialRow> {
  const changes: Partial<CredentialRow> = {};
  if (!sameValue(previous.secret, next.secret)) changes.secret = next.secret;
  if (!sameValue(previous.data, next.data)) changes.data = next.data;
  return changes;
}

function translateUniqueViolation(error: unknown): unknown {
  switch (violatedUniqueConstraint(error)) {
    case 'users_email_key':
      return Errors.emailAlreadyRegistered();
    case 'users_username_key':
      return Errors.usernameTaken();
    default:
      return error;
  }
}
