import { inject, injectable } from 'inversify';
import type { UserDirectory, UserPage, UserQuery } from '../ports/user-directory';
import { PORTS } from '../ports/tokens';

/** GET /admin/users: one page of the accounts matching the filters, with the total. */
@injectable()
export class ListUsers {
  constructor(@inject(PORTS.UserDirectory) private readonly directory: UserDirectory) {}

  execute(query: UserQuery): Promise<UserPage> {
    return this.directory.search(query);
  }
}
