import { DomainError } from '@domain/shared/domain-error';
import type { User } from '@domain/user/user';
import type { AuditEntry } from '../ports/audit-log';
import type { PasswordHasher } from '../ports/password-hasher';
import type { UnitOfWork } from '../ports/unit-of-work';

/**
 * Sensitive changes ask for the current password again: a stolen access token alone cannot take the account
 * over. A wrong one is audited (its own transaction, which commits) and answered INVALID_CREDENTIALS.
 */
export async function assertCurrentPassword(
  hasher: PasswordHasher,
  uow: UnitOfWork,
  user: User,
  plain: string,
  failure: AuditEntry,
): Promise<void> {
  if (await hasher.verify(user.credentials.passwordHash, plain)) return;
  await uow.run((repos) => repos.audit.record(failure));
  throw wrongPassword();
}

export function wrongPassword(): DomainError {
  return new DomainError('INVALID_CREDENTIALS', 'The current password is incorrect.');
}

/** The user a valid access token names; gone only if the account was deleted meanwhile. */
export function found(user: User | null): User {
  if (!user) throw new DomainError('NOT_FOUND', 'The user does not exist.');
  return user;
}
