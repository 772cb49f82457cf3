import type { DomainError } from '@domain/shared/domain-error';
import { Errors } from '../shared/errors';
import { inject, injectable } from 'inversify';
import type { User } from '@domain/user/user';
import type { AuditEntry } from '../ports/audit-log';
import type { PasswordHasher } from '../ports/password-hasher';
import type { SecretAttempts } from '../ports/secret-attempts';
import type { Repositories, UnitOfWork } from '../ports/unit-of-work';
import { PORTS } from '../ports/tokens';

/**
 * Counts the current-password checks of each user (SecretAttempts: shared by every instance, counted before
 * hashing so that a parallel burst counts too) and ends the session that asked once `maxFailures` checks in a
 * row were not right. Whoever holds a stolen access token gets that many guesses, then has no token; the
 * per-user rate limit of the routes bounds the hashing and emails before that.
 */
@injectable()
export class CurrentPasswordGuard {
  constructor(
    @inject(PORTS.SecretAttempts) readonly attempts: SecretAttempts,
    @inject(PORTS.CurrentPasswordMaxFailures) readonly maxFailures: number,
  ) {}

  static subject(userId: string): string {
    return `current-password:${userId}`;
  }
}

/** The request a check comes from: the session of its access token (`sid`), ended after too many failures. */
export interface CurrentPasswordAsker {
  guard: CurrentPasswordGuard;
  sessionId: string;
}

/**
 * Sensitive changes ask for the current password again: a stolen access token alone cannot take the account
 * over. A wrong one is audited (its own transaction, which commits) and answered INVALID_CREDENTIALS; the
 * `maxFailures`-th in a row (and any check beyond it, unhashed) also revokes the asking session in that
 * transaction ('session.revoked', reason 'current_password_failures', event auth.session.revoked; the
 * unit of work updates the session cache, so the token stops working at once) and starts the count afresh.
 * A right one starts the count afresh.
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
  const attempt = await guard.attempts.begin(subject, failure.occurredAt);
  const beyond = attempt > guard.maxFailures;
  const hash = user.credentials.passwordHash;
  if (!beyond && hash !== null && (await hasher.verify(hash, plain))) {
    await guard.attempts.reset(subject);
    return;
  }
  const revoke = attempt >= guard.maxFailures;
  await uow.run(async (repos) => {
    await repos.audit.record(beyond ? { ...failure, reason: 'too_many_attempts' } : failure);
    if (revoke) await revokeAskingSession(repos, user.id, asker.sessionId, failure);
  });
  if (revoke) await guard.attempts.reset(subject);
  throw wrongPassword();
}

async function revokeAskingSession(repos: Repositories, userId: string, sessionId: string, failure: AuditEntry): Promise<void> {
  const session = await repos.sessions.findByIdForUpdate(sessionId);
  if (!session || session.userId !== userId || session.revokedAt !== null) return;
  session.revoke(failure.occurredAt, 'current_password_failures');
  await repos.sessions.save(session);
  await repos.audit.record({ ...failure, type: 'session.revoked', outcome: 'success', reason: 'current_password_failures' });
}

export function wrongPassword(): DomainError {
  return Errors.wrongCurrentPassword();
}

/** The user a valid access token names; gone only if the account was deleted meanwhile. */
export function found(user: User | null): User {
  if (!user) throw Errors.userNotFound();
  return user;
}
