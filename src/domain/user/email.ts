import { DomainError } from '../shared/domain-error';

const MAX_LENGTH = 254;
// Deliberately simple: one @, a non-empty local part, a dotted domain, no spaces or control characters.
const SHAPE = /^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+\.[^\s@\p{Cc}]+$/u;

/** An email address in canonical form: trimmed, Unicode NFKC, lower-case (CONTRACT §2). */
export class Email {
  private constructor(readonly value: string) {}

  static create(raw: string): Email {
    const canonical = Email.canonicalize(raw);
    if (canonical.length === 0 || canonical.length > MAX_LENGTH || !SHAPE.test(canonical)) {
      throw DomainError.validation('email', 'must be a valid email address');
    }
    return new Email(canonical);
  }

  /** The canonical form without validating it: used to normalise identifiers (e.g. lockout keys). */
  static canonicalize(raw: string): string {
    return raw.trim().normalize('NFKC').toLowerCase();
  }

  get localPart(): string {
    return this.value.slice(0, this.value.lastIndexOf('@'));
  }

  equals(other: Email): boolean {
    return this.value === other.value;
  }
}
