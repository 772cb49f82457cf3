import { inject, injectable } from 'inversify';
import type { Session } from '@domain/session/session';
import type { SessionRepository } from '@domain/session/session.repository';
import type { User } from '@domain/user/user';
import type { UserRepository } from '@domain/user/user.repository';
import type { Clock } from '../ports/clock';
import { Errors } from '../shared/errors';
import { PORTS } from '../ports/tokens';

/** GET /admin/users/:id: the account and its live sessions (neither revoked nor expired), newest first. */
@injectable()
export class GetUserDetails {
  constructor(
    @inject(PORTS.UserRepository) private readonly users: UserRepository,
    @inject(PORTS.SessionRepository) private readonly sessions: SessionRepository,
    @inject(PORTS.Clock) private readonly clock: Clock,
  ) {}

  async execute(input: { userId: string }): Promise<{ user: User; sessions: Session[] }> {
    const user = await this.users.findById(input.userId);
    if (!user) throw Errors.userNotFound();
    return { user, sessions: await this.sessions.findActiveByUser(user.id, this.clock.now()) };
  }
}
