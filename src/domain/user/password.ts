import { DomainErrors } from '../shared/errors';

export const PASSWORD_MAX_LENGTH = 128;

/**
 * A plain-text password that satisfies the length bounds. It never leaves the process in this form:
 * it is hashed by the PasswordHasher port and then dropped. toString/toJSON hide it from logs.
 */
export class Password {
  private constructor(private readonly plain: string) {}

  static create(raw: string, minLength: number): Password {
    const length = [...raw].length;
    if (length < minLength) {
      throw DomainErrors.weakPassword([`must be at least ${minLength} characters`]);
    }
    if (length > PASSWORD_MAX_LENGTH) {
      throw DomainErrors.weakPassword([`must be at most ${PASSWORD_MAX_LENGTH} characters`]);
    }
    return new Password(raw);
  }

  reveal(): string {
    return this.plain;
  }

  toString(): string {
    return '[password]';
  }

  toJSON(): string {
    return '[password]';
  }
}
