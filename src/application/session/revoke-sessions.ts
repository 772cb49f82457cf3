import type { RevokeReason } from '@domain/session/session';
import type { User } from '@domain/user/user';
import type { Repositories } from '../ports/unit-of-work';

/**
 * Revokes every active session of the user except `keep` (the caller's own, when it stays); returns how many.
 * The sessions are locked first; the caller holds the user's lock (user first, then sessions, everywhere).
 */
export async function revokeSessions(
  repos: Repositories,
  userId: string,
  now: Date,
  reason: RevokeReason,
  keep: string | null = null,
): Promise<number> {
  const sessions = (await repos.sessions.findActiveByUserForUpdate(userId, now)).filter((s) => s.id !== keep);
  for (const session of sessions) {
    session.revoke(now, reason);
    await repos.sessions.save(session);
  }
  return sessions.length;
}

/**
 * After a password reset or change, a global logout, or an admin's suspension or revocation of the sessions: the
 * other sessions end, and nothing handed out before can still act on the account: every outstanding one-time token
 * (pending MFA logins, reset, verification and email-change links) is void and a pending email change is dropped.
 * `user` was read FOR UPDATE; the caller saves it.
 */
export async function cutOffEarlierAccess(
  repos: Repositories,
  user: User,
  now: Date,
  reason: RevokeReason,
  keep: string | null = null,
): Promise<number> {
  user.cancelEmailChange(now);
  await repos.oneTimeTokens.consumeAllOfUser(user.id, now);
  return revokeSessions(repos, user.id, now, reason, keep);
}
