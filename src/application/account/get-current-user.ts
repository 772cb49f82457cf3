import { Errors } from '../shared/errors';
import type { User } from '@domain/user/user';
import type { UserRepository } from '@domain/user/user.repository';

export class GetCurrentUser {
  constructor(private readonly users: UserRepository) {}

  async execute(input: { userId: string }): Promise<User> {
    const user = await this.users.findById(input.userId);
    if (!user) throw Errors.userNotFound();
    return user;
  }
}
