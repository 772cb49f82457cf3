import { inject, injectable } from 'inversify';
import type { Session } from '@domain/session/session';
import type { SessionRepository } from '@domain/session/session.repository';
import type { Clock } from '../ports/clock';
import { PORTS } from '../ports/tokens';

export interface SessionListing {
  session: Session;
  /** The session the request was made with (the access token's `sid`). */
  current: boolean;
}

/** The user's sessions that are neither revoked nor expired, newest first. */
@injectable()
export class ListSessions {
  constructor(
    @inject(PORTS.SessionRepository) private readonly sessions: SessionRepository,
    @inject(PORTS.Clock) private readonly clock: Clock,
  ) {}

  async execute(input: { userId: string; currentSessionId: string }): Promise<SessionListing[]> {
    const sessions = await this.sessions.findActiveByUser(input.userId, this.clock.now());
    return sessions.map((session) => ({ session, current: session.id === input.currentSessionId }));
  }
}
