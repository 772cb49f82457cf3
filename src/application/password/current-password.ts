import type { DomainError } from '@domain/shared/domain-error';
import { Errors } from '../shared/errors';
import { inject, injectable } from 'inversify';
import type { SessionRepository } from '@domain/session/session.repository';
import type { User } from '@domain/user/user';
import type { AuditEntry } from '../ports/audit-log';
import type { PasswordHasher } from '../ports/password-hasher';
import type { CheckOutcome, SecretAttempts } from '../ports/secret-attempts';
import { IN_FLIGHT_RETRY_AFTER_SECONDS } from '../ports/login-lockout';
import type { Repositories, UnitOfWork } from '../ports/unit-of-work';
import { sessionCounts } from '../shared/asking-session';
import { revokeSessions } from '../session/revoke-sessions';
import { matchPassword } from '../shared/password-match';
import { PORTS } from '../ports/tokens';

/**
 * Places for the current-password checks of each user (SecretAttempts: shared by every instance, taken before
 * hashing so that a parallel burst cannot exceed them) and the failures among them; ends every session of the user
 * once `maxFailures` checks in a row were found wrong, whichever sessions made them. Whoever holds a stolen access
 * token gets fewer guesses than that, then has no token; the per-user rate limit of the routes bounds the hashing
 * and emails before that. (Until 2026-12-03 only the session that gave the last wrong answer ended: a thief who
 * stopped one guess short kept the token, and the owner's next typo signed the owner out instead; an outside
 * review found it.)
 * `sessions` (a plain read) tells whether the asking session still stands before a check is hashed: requests that
 * passed the token check just before their session was revoked get no guess.
 */
@injectable()
export class CurrentPasswordGuard {
  constructor(
    @inject(PORTS.SecretAttempts) readonly attempts: SecretAttempts,
    @inject(PORTS.CurrentPasswordMaxFailures) readonly maxFailures: number,
    @inject(PORTS.SessionRepository) readonly sessions: SessionRepository,
  ) {}

  static subject(userId: string): string {
    return `current-password:${userId}`;
  }
}

/** The request a check comes from: the session of its access token (`sid`). */
export interface CurrentPasswordAsker {
  guard: CurrentPasswordGuard;
  sessionId: string;
  /** The request's ClientContext.signal: its client gone before the check's turn, the check is not run. */
  signal?: AbortSignal;
}

/**
 * Sensitive changes ask for the current password again: a stolen access token alone cannot take the account
 * over. Each check takes one of `maxFailures` places (failures so far count as taken). A wrong password is
 * audited (its own transaction, which commits) and answered INVALID_CREDENTIALS; the `maxFailures`-th wrong one
 * in a row also revokes every session of the user in that transaction ('session.revoked', reason
 * 'current_password_failures', event auth.session.revoked for each; the unit of work updates the session cache, so
 * the tokens stop working at once) and starts the count afresh once that has committed. A right one starts the count
 * afresh. A check that finds every place taken by checks still in flight is answered 429 RATE_LIMITED
 * (Retry-After: 1), unchecked and uncounted: right passwords sent at once are never taken for wrong ones. A check the
 * hasher does not run (refused when hashing is saturated, or its client gone before its turn) gives its place back
 * uncounted and propagates.
 *
 * One token, at most `maxFailures` hashes, although its requests that passed the token check before the revocation
 * keep arriving after it: an admitted check whose asking session no longer stands (revoked, expired, gone) gives its
 * place back unhashed and answers 401 INVALID_TOKEN, as the token check now does. The count starts afresh only once
 * the revoking transaction has committed (so the session's later checks all find it revoked), only by the request
 * that revoked the session or whose wrong answer reached the limit, and the checks in flight keep their places. The
 * refused requests of a session already revoked leave the count alone (until 2026-12-01 each of them started it
 * afresh, places in flight included: 6 to 17 hashes for one token over two instances).
 */
export async function assertCurrentPassword(
  hasher: PasswordHasher,
  uow: UnitOfWork,
  user: User,
  plain: string,
  failure: AuditEntry,
  asker: CurrentPasswordAsker,
): Promise<void> {
  const { guard } = asker;
  const subject = CurrentPasswordGuard.subject(user.id);
  const place = await guard.attempts.begin(subject, guard.maxFailures, failure.occurredAt);
  if (!place.admitted && place.failures < guard.maxFailures) throw Errors.checksInFlight(IN_FLIGHT_RETRY_AFTER_SECONDS);
  let failures = place.failures;
  if (place.admitted) {
    let outcome: CheckOutcome = 'none';
    try {
      // Admitted after the count started afresh, which a revocation of this session commits first: read now.
      const asking = { userId: user.id, sessionId: asker.sessionId };
      if (!sessionCounts(await guard.sessions.findById(asker.sessionId), asking, failure.occurredAt)) throw Errors.invalidToken();
      const hash = user.credentials.passwordHash;
      // In NFKC, then as typed if that differs (hashes made before normalisation); one check, one count either way.
      outcome = hash !== null && (await matchPassword(hasher, hash, plain, asker.signal)) !== 'none' ? 'right' : 'wrong';
    } finally {
      failures = await guard.attempts.end(subject, outcome, failure.occurredAt);
    }
    if (outcome === 'right') return;
  }
  // Wrong, or refused because the failures already reached the limit: at the limit, every session ends.
  const atLimit = failures >= guard.maxFailures;
  const revoked = await uow.run(async (repos) => {
    await repos.audit.record(place.admitted ? failure : { ...failure, reason: 'too_many_attempts' });
    return atLimit && (await revokeEverySession(repos, user.id, failure));
  });
  // This wrong answer reached the limit (its sessions may have ended otherwise meanwhile: someone must start afresh),
  // or this transaction revoked sessions. Not a refused request of a session already revoked.
  if (revoked || (place.admitted && atLimit)) await guard.attempts.reset(subject);
  throw wrongPassword();
}

/**
 * True: this transaction revoked sessions of the user; false: none was left (all revoked already, or the account
 * gone). Which session guessed cannot be told from the owner's typo, so none stays. The user's lock first, as every
 * writer of the account takes it, then the sessions'.
 */
async function revokeEverySession(repos: Repositories, userId: string, failure: AuditEntry): Promise<boolean> {
  const user = await repos.users.findByIdForUpdate(userId);
  if (!user) return false;
  const revoked = await revokeSessions(repos, userId, failure.occurredAt, 'current_password_failures');
  if (revoked === 0) return false;
  await repos.audit.record({ ...failure, type: 'session.revoked', outcome: 'success', reason: 'current_password_failures' });
  return true;
}

export function wrongPassword(): DomainError {
  return Errors.wrongCurrentPassword();
}

/**
 * The caller's own account, the user its valid access token names; gone only if the account was deleted while the
 * request ran. Its token then no longer counts (deletion revokes at once, CONTRACT §4): 401 INVALID_TOKEN, as the
 * same request a moment later gets from the token check, not 404 (an outside review, 2026-11-30, saw 404 "The user
 * does not exist." from requests racing an admin's deletion). Routes that name another account by id answer 404.
 */
export function found(user: User | null): User {
  if (!user) throw Errors.invalidToken();
  return user;
}
