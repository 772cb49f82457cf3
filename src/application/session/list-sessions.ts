import type { Session } from '@domain/session/session';
import type { SessionRepository } from '@domain/session/session.repository';
import type { Clock } from '../ports/clock';

export interface SessionListing {
  session: Session;
  /** The session the request was made with (the access token's `sid`). */
  current: boolean;
}

/** The user's sessions that are neither revoked nor expired, newest first. */
export class ListSessions {
  constructor(
    private readonly sessions: SessionRepository,
    private readonly clock: Clock,
  ) {}

  async execute(input: { userId: string; currentSessionId: string }): Promise<SessionListing[]> {
    const sessions = await this.sessions.findActiveByUser(input.userId, this.clock.now());
    return sessions.map((session) => ({ session, current: session.id === input.currentSessionId }));
  }
}
