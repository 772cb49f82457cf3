import type { RevokeReason } from '@domain/session/session';
import type { Repositories } from '../ports/unit-of-work';

/** Revokes every active session of the user except `keep` (the caller's own, when it stays); returns how many. */
export async function revokeSessions(
  repos: Repositories,
  userId: string,
  now: Date,
  reason: RevokeReason,
  keep: string | null = null,
): Promise<number> {
  const sessions = (await repos.sessions.findActiveByUser(userId, now)).filter((s) => s.id !== keep);
  for (const session of sessions) {
    session.revoke(now, reason);
    await repos.sessions.save(session);
  }
  return sessions.length;
}
