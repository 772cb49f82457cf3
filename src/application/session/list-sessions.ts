import { inject, injectable } from 'inversify';
import type { Session } from '@domain/session/session';
import type { SessionRepository } from '@domain/session/session.repository';
import type { Clock } from '../ports/clock';
import { sessionLifetimes, type AuthSettings } from '../shared/auth-settings';
import { PORTS } from '../ports/tokens';

export interface SessionListing {
  session: Session;
  /** The session the request was made with (the access token's `sid`). */
  current: boolean;
  /** When it ends under the session limits configured now (Session.endsAt). */
  expiresAt: Date;
}

/** The user's sessions that are neither revoked nor expired (under the limits configured now), newest first. */
@injectable()
export class ListSessions {
  constructor(
    @inject(PORTS.SessionRepository) private readonly sessions: SessionRepository,
    @inject(PORTS.AuthSettings) private readonly settings: AuthSettings,
    @inject(PORTS.Clock) private readonly clock: Clock,
  ) {}

  async execute(input: { userId: string; currentSessionId: string }): Promise<SessionListing[]> {
    const now = this.clock.now();
    return liveSessions(await this.sessions.findActiveByUser(input.userId, now), now, this.settings, input.currentSessionId);
  }
}

/**
 * The sessions, among those the repository found unrevoked and unexpired by their stored expiry, that the limits
 * configured now still leave live, each with its end under them. A session /auth/refresh would refuse since the limits
 * were lowered is not listed as live (until stop 56 it was, with its stored expiry).
 */
export function liveSessions(sessions: Session[], now: Date, settings: AuthSettings, currentSessionId: string | null): SessionListing[] {
  const lifetimes = sessionLifetimes(settings);
  return sessions
    .filter((session) => session.isLive(now, lifetimes))
    .map((session) => ({ session, current: session.id === currentSessionId, expiresAt: session.endsAt(lifetimes) }));
}
