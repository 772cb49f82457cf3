import { Errors } from '@application/shared/errors';
import type { User } from '@domain/user/user';
import type { UserRepository } from '@domain/user/user.repository';
import type { EntityManager, QueryDeepPartialEntity } from 'typeorm';
import { LockedRows } from '../locked-rows';
import { TypeOrmOutboxWriter } from './outbox-writer';
import { violatedUniqueConstraint } from './pg-errors';
import { nest, selectList } from './raw-select';
import { isUuid } from './uuid';
import { toUser, toUserRows, type UserRows } from './user.mapper';
import { CredentialsRecord, UserRecord } from './user.record';

const CREDENTIALS = 'credentials__';
type UserRow = UserRows['user'];
type CredentialsRow = UserRows['credentials'];

/**
 * Users and their credentials. Bound to one EntityManager: the transaction's inside a unit of work.
 * The lock is FOR NO KEY UPDATE: it serialises every writer of the account, yet does not conflict with the KEY
 * SHARE lock that inserting a session (a row referencing the user) takes, so a login holding the user lock can
 * insert its session and two logins of one user queue instead of deadlocking.
 */
export class TypeOrmUserRepository implements UserRepository {
  private readonly outbox: TypeOrmOutboxWriter;
  private readonly users = new LockedRows<User, UserRow>('users');
  private readonly credentials = new LockedRows<User, CredentialsRow>('credentials');

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
    const user = await this.findOne('id', id, ' FOR NO KEY UPDATE');
    if (user) this.remember(user);
    return user;
  }

  async add(user: User): Promise<void> {
    const rows = toUserRows(user);
    try {
      await this.manager.insert(UserRecord, rows.user);
    } catch (error) {
      throw translateUniqueViolation(error);
    }
    await this.manager.insert(CredentialsRecord, rows.credentials);
    this.remember(user, rows);
    await this.outbox.write(user.pullEvents());
  }

  async save(user: User): Promise<void> {
    const rows = toUserRows(user);
    const userChanges = this.users.changes(user, rows.user);
    const credentialChanges = this.credentials.changes(user, rows.credentials);
    try {
      await this.update(UserRecord, { id: user.id }, userChanges);
    } catch (error) {
      throw translateUniqueViolation(error);
    }
    await this.update(CredentialsRecord, { userId: user.id }, credentialChanges);
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

  /** UPDATE of the changed columns of a row that must exist (it is locked by this transaction). */
  private async update<T extends UserRecord | CredentialsRecord>(
    target: new () => T,
    where: Partial<T>,
    changes: QueryDeepPartialEntity<T>,
  ): Promise<void> {
    if (Object.keys(changes).length === 0) return;
    const result = await this.manager.createQueryBuilder().update(target).set(changes).where(where).execute();
    if (result.affected !== 1) throw new Error(`${target.name}: the locked row to update is gone`);
  }

  private async findOne(column: 'id' | 'email' | 'username', value: string, lock = ''): Promise<User | null> {
    const columns = `${selectList(this.manager, UserRecord, 'u')}, ${selectList(this.manager, CredentialsRecord, 'c', CREDENTIALS)}`;
    const rows: Record<string, unknown>[] = await this.manager.query(
      `SELECT ${columns} FROM users u JOIN credentials c ON c.user_id = u.id WHERE u.${column} = $1${lock}`,
      [value],
    );
    return rows[0] ? toUser(nest<UserRecord, CredentialsRecord>(rows[0], CREDENTIALS, 'credentials')) : null;
  }
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
