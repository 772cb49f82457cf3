import type { Session } from '@domain/session/session';
import type { Repositories } from '../ports/unit-of-work';
import { Errors } from '../shared/errors';

/**
 * How recent the asking session's sign-in must be to turn MFA on (POST /mfa/totp/setup and /enable): 15 minutes,
 * counted from the session's start (its sign-in with the password; a refresh does not move it).
 *
 * Why: enabling MFA ends every other session, and a password reset leaves MFA on. With a session of any age, a thief
 * holding a stolen refresh token (or an access token of a long-refreshed session) set MFA up on a device of theirs,
 * signed the owner out everywhere, and the owner could not sign in again without support (the README's known limit
 * until stop 52). Now the thief needs a session that signed in minutes ago, which takes the password. CONTRACT §3's
 * bodies are unchanged.
 */
export const SIGN_IN_STEP_UP_SECONDS = 15 * 60;

/** Whether `session` signed in within SIGN_IN_STEP_UP_SECONDS of `now`. */
export function signedInRecently(session: Session, now: Date): boolean {
  return now.getTime() - session.createdAt.getTime() <= SIGN_IN_STEP_UP_SECONDS * 1000;
}

/**
 * Inside the change's unit of work, after lockAskingAccount (which has checked that the session counts and locked
 * it): refuses a session whose sign-in is not recent.
 */
export async function assertRecentSignIn(repos: Repositories, sessionId: string, now: Date): Promise<void> {
  const session = await repos.sessions.findById(sessionId);
  if (session && !signedInRecently(session, now)) throw Errors.signInNotRecent();
}
