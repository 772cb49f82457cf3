import { DomainErrors } from '../shared/errors';

export const PASSWORD_MAX_LENGTH = 128;

/**
 * A plain-text password that satisfies the length bounds, in Unicode NFKC (NIST SP 800-63B 5.1.1.2): the same
 * password typed through another input method (é as one code point, or e + U+0301 as macOS and some keyboards
 * send it) is the same password. The hash is made, and the maximum length counted, on the normalised form; the minimum on the fewer of
 * the typed and the normalised characters (lengthForMinimum). It never leaves the process in this form: it is hashed by the PasswordHasher port and then dropped. toString/toJSON hide it from logs.
 */
export class Password {
  private constructor(private readonly plain: string) {}

  static create(raw: string, minLength: number): Password {
    const plain = Password.normalize(raw);
    if (Password.lengthForMinimum(raw) < minLength) {
      throw DomainErrors.weakPassword([`must be at least ${minLength} characters`]);
    }
    if ([...plain].length > PASSWORD_MAX_LENGTH) {
      throw DomainErrors.weakPassword([`must be at most ${PASSWORD_MAX_LENGTH} characters`]);
    }
    return new Password(plain);
  }

  /**
   * The length the minimum applies to: the smaller of the characters typed (NFC, so é is one however it was typed)
   * and those of the normalised form. NFKC expands compatibility characters (`ﷺ` is 18 characters, `㏿` three), so
   * counted on the normalised form alone one typed character out of a few thousand passed an 8-character minimum (an
   * outside review, 2026-12-08).
   */
  static lengthForMinimum(raw: string): number {
    return Math.min([...raw.normalize('NFC')].length, [...Password.normalize(raw)].length);
  }

  /** The form every password is checked, scored and hashed in. */
  static normalize(raw: string): string {
    return raw.normalize('NFKC');
  }

  /**
   * The forms a typed password is verified in, in order: normalised; then as typed, when that differs, for the
   * hashes made before passwords were normalised (until 2026-12-01), which the login then rehashes normalised.
   * ASCII, and anything else NFKC leaves alone, has one form.
   */
  static candidates(raw: string): string[] {
    const plain = Password.normalize(raw);
    return plain === raw ? [plain] : [plain, raw];
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
