import { DomainError } from '@domain/shared/domain-error';
import type { User } from '@domain/user/user';
import type { UserRepository } from '@domain/user/user.repository';
import type { EntityManager, FindOptionsWhere } from 'typeorm';
import { TypeOrmOutboxWriter } from './outbox-writer';
import { violatedUniqueConstraint } from './pg-errors';
import { toUser, toUserRows } from './user.mapper';
import { CredentialsRecord, UserRecord } from './user.record';

/** Users and their credentials. Bound to one EntityManager: the transaction's inside a unit of work. */
export class TypeOrmUserRepository implements UserRepository {
  private readonly outbox: TypeOrmOutboxWriter;

  constructor(private readonly manager: EntityManager) {
    this.outbox = new TypeOrmOutboxWriter(manager);
  }

  findById(id: string): Promise<User | null> {
    return this.findOne({ id });
  }

  findByEmail(email: string): Promise<User | null> {
    return this.findOne({ email });
  }

  findByUsername(username: string): Promise<User | null> {
    return this.findOne({ username });
  }

  async save(user: User): Promise<void> {
    const rows = toUserRows(user);
    try {
      await this.manager.upsert(UserRecord, rows.user, { conflictPaths: ['id'] });
    } catch (error) {
      throw translateUniqueViolation(error);
    }
    await this.manager.upsert(CredentialsRecord, rows.credentials, { conflictPaths: ['userId'] });
    await this.outbox.write(user.pullEvents());
  }

  private async findOne(where: FindOptionsWhere<UserRecord>): Promise<User | null> {
    const record = await this.manager.findOne(UserRecord, { where, relations: { credentials: true } });
    return record ? toUser(record) : null;
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
