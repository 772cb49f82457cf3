import { DomainErrors } from '../shared/errors';

/** A role name's shape (also declared by the HTTP DTOs, so that the OpenAPI document shows it). */
export const ROLE_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;
/** An account holds a handful of roles; a longer list is a mistake, not a need. */
export const MAX_ROLES = 20;
/** Why an empty list of roles is refused (also the HTTP DTOs' message). */
export const ROLES_REQUIRED = 'at least one role, e.g. ["user"]';

/** The role every account starts with, and the one that opens the admin API. */
export const USER_ROLE = 'user';
export const ADMIN_ROLE = 'admin';

/**
 * A role name: `user`, `admin` or one an operator defines, lower-case `[a-z][a-z0-9_-]{0,31}`. A list of roles
 * is validated as a whole (duplicates dropped, order kept) so that a bad one names its position.
 */
export class Role {
  private constructor(readonly value: string) {}

  static create(raw: string): Role {
    if (!ROLE_PATTERN.test(raw)) throw DomainErrors.validation('roles', `"${raw.slice(0, 40)}" is not a valid role: [a-z][a-z0-9_-]{0,31}`);
    return new Role(raw);
  }

  /**
   * At least one: an account without any role would pass the service's own checks (only `admin` opens anything
   * here) yet be refused by every service that asks for `user`, with no trace of why. Give it `["user"]`.
   */
  static list(raw: readonly string[]): Role[] {
    const unique = [...new Set(raw)];
    if (unique.length === 0) throw DomainErrors.validation('roles', ROLES_REQUIRED);
    if (unique.length > MAX_ROLES) throw DomainErrors.validation('roles', `at most ${MAX_ROLES} roles`);
    return unique.map((value) => Role.create(value));
  }
}
