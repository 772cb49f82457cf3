import { inject, injectable } from 'inversify';
import type { SessionRepository } from '@domain/session/session.repository';
import type { User } from '@domain/user/user';
import type { UserRepository } from '@domain/user/user.repository';
import type { Clock } from '../ports/clock';
import { liveSessions, type SessionListing } from '../session/list-sessions';
import type { AuthSettings } from '../shared/auth-settings';
import { Errors } from '../shared/errors';
import { PORTS } from '../ports/tokens';

/** GET /admin/users/:id: the account and its live sessions (neither revoked nor expired under the limits configured now), newest first. */
@injectable()
export class GetUserDetails {
  constructor(
    @inject(PORTS.UserRepository) private readonly users: UserRepository,
    @inject(PORTS.SessionRepository) private readonly sessions: SessionRepository,
    @inject(PORTS.AuthSettings) private readonly settings: AuthSettings,
    @inject(PORTS.Clock) private readonly clock: Clock,
  ) {}

  async execute(input: { userId: string }): Promise<{ user: User; sessions: SessionListing[] }> {
    const user = await this.users.findById(input.userId);
    if (!user) throw Errors.userNotFound();
    const now = this.clock.now();
    return { user, sessions: liveSessions(await this.sessions.findActiveByUser(user.id, now), now, this.settings, null) };
  }
}
