import { DomainErrors } from '../shared/errors';

const SHAPE = /^[a-z0-9_.-]{3,32}$/;

/** 3-32 characters of [a-z0-9_.-], compared case-insensitively (stored lower-case). */
export class Username {
  private constructor(readonly value: string) {}

  static create(raw: string): Username {
    const value = raw.trim().normalize('NFKC').toLowerCase();
    if (!SHAPE.test(value)) {
      throw DomainErrors.validation('username', 'must be 3-32 characters of a-z, 0-9, _, . or -');
    }
    return new Username(value);
  }

  static looksLike(raw: string): boolean {
    return SHAPE.test(raw.trim().normalize('NFKC').toLowerCase());
  }

  equals(other: Username): boolean {
    return this.value === other.value;
  }
}
