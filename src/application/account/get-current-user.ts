import { Errors } from '../shared/errors';
import { inject, injectable } from 'inversify';
import type { User } from '@domain/user/user';
import type { UserRepository } from '@domain/user/user.repository';
import { PORTS } from '../ports/tokens';

@injectable()
export class GetCurrentUser {
  constructor(@inject(PORTS.UserRepository) private readonly users: UserRepository) {}

  async execute(input: { userId: string }): Promise<User> {
    const user = await this.users.findById(input.userId);
    if (!user) throw Errors.userNotFound();
    return user;
  }
}
