import { DomainErrors } from '../shared/errors';

/** RFC 5321 §4.5.3.1 limits, counted in UTF-8 octets of the canonical form. */
const MAX_ADDRESS = 254;
const MAX_LOCAL = 64;
const MAX_DOMAIN = 253;
const MAX_LABEL = 63;

/**
 * One atom of a dot-atom: RFC 5322 atext, plus the non-ASCII letters, marks and digits that RFC 6531 (SMTPUTF8)
 * allows. Not a mark first (it would combine with the dot or the start). No space, control, format (zero-width,
 * bidi) or symbol character, and none of the specials that make a header read as a comment, a display name or
 * a list: ( ) < > [ ] : ; @ \ , " and whitespace.
 */
const ATOM = /^(?!\p{M})[a-z0-9!#$%&'*+\-/=?^_`{|}~\p{L}\p{M}\p{N}]+$/u;
/**
 * A quoted local part: printable ASCII (space included) or non-ASCII letters/marks/digits; `\` quotes one such char.
 * Not `<` or `>`, even quoted: the mail library turns them into spaces (`"<x@evil.test>"@example.com` would go out as
 * `" x@evil.test "@example.com`), so the mailbox delivered to would not be the one stored.
 */
const QUOTED = /^"((?:[\x20\x21\x23-\x3b\x3d\x3f-\x5b\x5d-\x7e\p{L}\p{M}\p{N}]|\\[\x20-\x3b\x3d\x3f-\x7e\p{L}\p{M}\p{N}])+)"$/u;
/**
 * A domain label: LDH (letters, digits, hyphen; not starting or ending with a hyphen) where letters and digits
 * may be Unicode (an IDN's U-label). The domain layer has no punycode, so a U-label is checked by character
 * class; nodemailer converts it to its A-label when it sends.
 */
const LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{M}\p{N}-]*[\p{L}\p{M}\p{N}])?$/u;
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * An email address in canonical form: trimmed, Unicode NFKC, lower-case (CONTRACT §2), and exactly one RFC 5321
 * mailbox: `local@domain`, where local is a dot-atom or a quoted string and domain is two or more LDH/IDN labels.
 * Comments, display names, angle brackets, lists, whitespace outside quotes, control characters and domain
 * literals are refused, so the stored address is the one the mailer delivers to and nothing else.
 */
export class Email {
  private constructor(readonly value: string) {}

  static create(raw: string): Email {
    const email = Email.parse(raw);
    if (!email) throw DomainErrors.validation('email', 'must be a valid email address');
    return email;
  }

  /** The mailbox, or null when `raw` is not one: for lookups where a non-address must simply not match. */
  static parse(raw: string): Email | null {
    // Validated after canonicalisation: NFKC can turn a harmless-looking character into a special (U+FF0C -> ',').
    const canonical = fold(raw);
    const at = canonical.lastIndexOf('@');
    if (at < 0) return null;
    const local = canonicalLocalPart(canonical.slice(0, at));
    const domain = canonical.slice(at + 1);
    if (local === null || !isDomain(domain)) return null;
    const value = `${local}@${domain}`;
    if (utf8Length(local) > MAX_LOCAL || utf8Length(value) > MAX_ADDRESS) return null;
    return new Email(value);
  }

  /**
   * The canonical form without requiring a valid address: used to normalise identifiers (lockout and rate-limit
   * keys, lookups). A mailbox gets the very value `create` stores, so that the spellings of one quoted mailbox
   * (`"bob"@x`, `"b\ob"@x`, `bob@x`) share one key and cannot each get their own lockout budget.
   */
  static canonicalize(raw: string): string {
    return Email.parse(raw)?.value ?? fold(raw);
  }

  get localPart(): string {
    return this.value.slice(0, this.value.lastIndexOf('@'));
  }

  equals(other: Email): boolean {
    return this.value === other.value;
  }
}

function fold(raw: string): string {
  return raw.trim().normalize('NFKC').toLowerCase();
}

/**
 * The local part as stored, or null when it is neither a dot-atom nor a quoted string. A quoted string is the same
 * mailbox as its unquoted content (RFC 5321 §4.1.2), so `"john"` is stored as `john` and only needed quoting stays.
 */
function canonicalLocalPart(local: string): string | null {
  if (isDotAtom(local)) return local;
  const quoted = QUOTED.exec(local);
  if (!quoted) return null;
  const content = quoted[1]!.replace(/\\(.)/gu, '$1');
  return isDotAtom(content) ? content : `"${content.replace(/["\\]/g, '\\$&')}"`;
}

function isDotAtom(text: string): boolean {
  return text.split('.').every((atom) => ATOM.test(atom));
}

function isDomain(domain: string): boolean {
  const labels = domain.split('.');
  if (labels.length < 2 || utf8Length(domain) > MAX_DOMAIN) return false;
  // An all-numeric last label would make `x@1.2.3.4` look like an address literal (RFC 3696 §2).
  if (/^\d+$/.test(labels[labels.length - 1]!)) return false;
  return labels.every(isLabel);
}

function isLabel(label: string): boolean {
  if (!LABEL.test(label) || utf8Length(label) > MAX_LABEL) return false;
  // IDNA2008 reserves hyphens in positions 3-4 of a U-label (an ASCII `xn--` label is an A-label and stays).
  return !(NON_ASCII.test(label) && label.slice(2, 4) === '--');
}

function utf8Length(text: string): number {
  let octets = 0;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    octets += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return octets;
}
