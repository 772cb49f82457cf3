import type { Session } from '@domain/session/session';
import type { User } from '@domain/user/user';
import type { Clock } from '../ports/clock';
import type { Repositories } from '../ports/unit-of-work';
import { Errors } from './errors';

/** The signed-in request a change comes from: the account its access token names (`sub`) and its session (`sid`). */
export interface Asker {
  userId: string;
  sessionId: string;
}

/**
 * First step of every change a bearer token asks for, inside the change's unit of work: locks the asking account
 * and checks, under that lock, that the token still counts. The access-token check ran at the start of the request;
 * a global logout, a password change or reset, a suspension, a deletion or an admin's revocation may have committed
 * since. Each of them takes this same user lock first, so once it is granted they either have committed (and are
 * seen here) or wait for this change. The session is then read under its own lock, as the single-session
 * revocations (DELETE /users/me/sessions/:id of the caller's own session, /oauth/revoke) take only that one.
 * A revoked, expired or foreign session, a suspended (or no longer verified, when verification is required) or
 * deleted account: INVALID_TOKEN, as the same request a moment later gets from the token check, and nothing written.
 * Not for requests that only take access away (logout, DELETE /users/me/sessions/:id): refused, they would leave in
 * place the very session they race (a stolen token's TOTP enabling ends the owner's session, reason mfa_enabled).
 */
export async function lockAskingAccount(repos: Repositories, asker: Asker, clock: Clock, requireEmailVerification: boolean): Promise<LockedAccount> {
  const user = await repos.users.findByIdForUpdate(asker.userId);
  if (!user || !user.isUsable(requireEmailVerification)) throw Errors.invalidToken();
  const session = await repos.sessions.findByIdForUpdate(asker.sessionId);
  const now = clock.now();
  if (!sessionCounts(session, asker, now)) throw Errors.invalidToken();
  return { user, now };
}

/**
 * The asking account, locked, and the change's time, read once both locks are held: a change that committed
 * while this one waited for them (a profile edit, a suspension) is dated before it, so its events and audit
 * entries do not come out dated after the deletion that followed it (an outside review, 2026-12-07: the time
 * was read before the wait, and auth.user.deleted could carry an earlier `time` than the change it followed).
 */
export interface LockedAccount {
  user: User;
  now: Date;
}

/** The session part alone, for callers that hold the asking account's lock already (the admin guard). */
export async function assertAskingSessionActive(repos: Repositories, asker: Asker, now: Date): Promise<void> {
  if (!sessionCounts(await repos.sessions.findByIdForUpdate(asker.sessionId), asker, now)) throw Errors.invalidToken();
}

/** The asking session still stands: it exists, is the asking account's, and is neither revoked nor expired. */
export function sessionCounts(session: Session | null, asker: Asker, now: Date): boolean {
  return session !== null && session.userId === asker.userId && session.isActive(now);
}
