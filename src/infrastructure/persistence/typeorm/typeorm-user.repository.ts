import { DomainError } from '@domain/shared/domain-error';
import type { User } from '@domain/user/user';
import type { UserRepository } from '@domain/user/user.repository';
import type { EntityManager } from 'typeorm';
import { TypeOrmOutboxWriter } from './outbox-writer';
import { violatedUniqueConstraint } from './pg-errors';
import { nest, selectList } from './raw-select';
import { updateOrInsert } from './update-or-insert';
import { isUuid } from './uuid';
import { toUser, toUserRows } from './user.mapper';
import { CredentialsRecord, UserRecord } from './user.record';

const CREDENTIALS = 'credentials__';

/** Users and their credentials. Bound to one EntityManager: the transaction's inside a unit of work. */
export class TypeOrmUserRepository implements UserRepository {
  private readonly outbox: TypeOrmOutboxWriter;

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

  async save(user: User): Promise<void> {
    const rows = toUserRows(user);
    try {
      await updateOrInsert(this.manager, UserRecord, 'id', rows.user as UserRecord);
    } catch (error) {
      throw translateUniqueViolation(error);
    }
    await updateOrInsert(this.manager, CredentialsRecord, 'userId', rows.credentials as CredentialsRecord);
    await this.outbox.write(user.pullEvents());
  }

  /** Credentials, sessions (with their token history) and one-time tokens go by ON DELETE CASCADE. */
  async delete(user: User): Promise<void> {
    await this.outbox.write(user.pullEvents());
    await this.manager.delete(UserRecord, { id: user.id });
  }

  private async findOne(column: 'id' | 'email' | 'username', value: string): Promise<User | null> {
    const columns = `${selectList(this.manager, UserRecord, 'u')}, ${selectList(this.manager, CredentialsRecord, 'c', CREDENTIALS)}`;
    const rows: Record<string, unknown>[] = await this.manager.query(
      `SELECT ${columns} FROM users u JOIN credentials c ON c.user_id = u.id WHERE u.${column} = $1`,
      [value],
    );
    return rows[0] ? toUser(nest<UserRecord, CredentialsRecord>(rows[0], CREDENTIALS, 'credentials')) : null;
  }
}

function translateUniqueViolation(error: unknown): unknown {
  switch (violatedUniqueConstraint(error)) {
    case 'users_email_key':
      return new DomainError('EMAIL_ALREADY_REGISTERED', 'This email address is already registered.');
    case 'users_username_key':
      return new DomainError('USERNAME_TAKEN', 'This username is taken.');
    default:
      return error;
  }
}
