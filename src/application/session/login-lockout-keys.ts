import { Email } from '@domain/user/email';
import type { User } from '@domain/user/user';
import type { LoginLockout } from '../ports/login-lockout';

/**
 * The lockout key of a login identifier: the canonical email (trim, NFKC, lower-case) or the lower-case
 * username, whether or not an account has it, so that known and unknown identifiers lock alike.
 */
export function lockoutKey(identifier: string): string {
  return Email.canonicalize(identifier);
}

/** Every identifier the user can log in with. */
export function lockoutKeysOf(user: User): string[] {
  return [user.email, user.username].filter((key): key is string => key !== null).map(lockoutKey);
}

/**
 * After a successful login, password reset or admin unlock: every identifier of the account starts afresh.
 * `cleared`: a key already cleared by `LoginLockout.succeed` (the identifier the login used), not cleared again:
 * a second clear would cost a round trip and would drop an attempt reserved on it since.
 */
export async function clearLockout(lockout: LoginLockout, user: User, cleared?: string): Promise<void> {
  await Promise.all(
    lockoutKeysOf(user)
      .filter((key) => key !== cleared)
      .map((key) => lockout.clear(key)),
  );
}
