import type { RevokeReason } from '@domain/session/session';
import type { User } from '@domain/user/user';
import type { Repositories } from '../ports/unit-of-work';

/**
 * How long after its expiry a session is still revoked with the others: a refresh that read it alive just before
 * the expiry writes (compare-and-set) after its signing, and a revocation that skipped it as expired left that write
 * nothing to fail on, so the session came back, its expiry moved on, after the password change that was to end it (a
 * review of stop 60). Written now, its row fails that write. The write also checks the expiry at its own instant
 * (SessionRepository.saveIfCurrent's `liveAt`); this margin covers the clocks of two instances besides.
 */
export const RECENTLY_EXPIRED_MS = 60_000;

/**
 * Revokes every active session of the user except `keep` (the caller's own, when it stays), and those that expired
 * in the last minute (RECENTLY_EXPIRED_MS); returns how many. The sessions are locked first; the caller holds the
 * user's lock (user first, then sessions, everywhere).
 */
export async function revokeSessions(
  repos: Repositories,
  userId: string,
  now: Date,
  reason: RevokeReason,
  keep: string | null = null,
): Promise<number> {
  const since = new Date(now.getTime() - RECENTLY_EXPIRED_MS);
  const sessions = (await repos.sessions.findActiveByUserForUpdate(userId, since)).filter((s) => s.id !== keep);
  for (const session of sessions) {
    session.revoke(now, reason);
    await repos.sessions.save(session);
  }
  return sessions.length;
}

/**
 * `logout` with scope `others`: the other sessions end, and so does a pending email change with its link
 * (voidLinks 'email_change', which DELETE /users/me/sessions/:id of another session does too).
 * `user` was read FOR UPDATE; the caller saves it.
 */
export async function endOtherAccess(
  repos: Repositories,
  user: User,
  now: Date,
  reason: RevokeReason,
  keep: string | null = null,
): Promise<number> {
  await voidLinks(repos, user, now, 'email_change');
  return revokeSessions(repos, user.id, now, reason, keep);
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
  await voidLinks(repos, user, now, 'all');
  return revokeSessions(repos, user.id, now, reason, keep);
}

/**
 * Drops a pending email change and voids outstanding one-time tokens: `all` of them, or the `email_change` links
 * only. The latter when the owner ends another session (logout `others`, or that one session revoked): whoever
 * holds it may be the one who asked for the change, with the link mailed to their own address, and confirming it
 * would hand them the account (a reset through the new address) after the owner had shut them out. The other
 * links stay: reset and verification links go to the owner's own address, and a pending second step is no session.
 * `user` was read FOR UPDATE; the caller saves it.
 */
export async function voidLinks(repos: Repositories, user: User, now: Date, which: 'all' | 'email_change'): Promise<void> {
  user.cancelEmailChange(now);
  if (which === 'all') await repos.oneTimeTokens.consumeAllOfUser(user.id, now);
  else await repos.oneTimeTokens.consumeAllFor(user.id, 'email_change', now);
}
