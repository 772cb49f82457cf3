import { DomainError } from '@domain/shared/domain-error';
import type { User } from '@domain/user/user';
import type { UserRepository } from '@domain/user/user.repository';

export class GetCurrentUser {
  constructor(private readonly users: UserRepository) {}

  async execute(input: { userId: string }): Promise<User> {
    const user = await this.users.findById(input.userId);
    if (!user) throw new DomainError('NOT_FOUND', 'The user does not exist.');
    return user;
  }
}
