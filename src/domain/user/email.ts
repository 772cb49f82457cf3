import { DomainErrors } from '../shared/errors';
import { foldDomainCase, IGNORED_IN_DOMAIN, mapDomainBeforeFold } from './email-domain-mapping';
import { decodePunycode, encodePunycode } from './punycode';

/**
 * RFC 5321 §4.5.3.1 limits, counted as the address goes on the wire: the local part in UTF-8 octets (RFC 6531), the
 * domain with each IDN label as its A-label (what DNS and the mailer carry: RFC 5890 §4.2's 63 octets are of the
 * A-label). Until an outside review (2026-12-08) the domain was counted in UTF-8 octets of its U-labels, so `ü` and 61
 * `a` (a 69-character A-label, which no DNS name can have) was accepted, and 22 `中` (a 28-character A-label) refused.
 */
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
 * may be Unicode (an IDN's U-label). A U-label is checked by character class; an A-label (`xn--…`) is decoded to
 * its U-label first (see canonicalLabel), and nodemailer converts the U-label back to its A-label when it sends.
 */
const LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{M}\p{N}-]*[\p{L}\p{M}\p{N}])?$/u;
const NON_ASCII = /[^\x00-\x7f]/;
/**
 * Invisible code points (Unicode's Default_Ignorable_Code_Point): refused in what is left of a domain (Hangul fillers,
 * which UTS #46 disallows). A local part is delivered octet for octet, so one with such a mark is another mailbox and
 * is kept as it is (refusing it would strand the accounts that have one: a review of stop 49).
 */
const DEFAULT_IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;
/** The ACE prefix of an IDNA A-label (RFC 5890 §2.3.2.1); labels are compared after the fold, so lower case. */
const ACE_PREFIX = 'xn--';

/**
 * An email address in canonical form: trimmed, Unicode NFKC, lower-case (CONTRACT §2), IDN labels in Unicode form
 * (an A-label decoded), and exactly one RFC 5321 mailbox: `local@domain`, where local is a dot-atom or a quoted
 * string and domain is two or more LDH/IDN labels.
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
    const once = Email.parseOnce(raw);
    if (once === null) return null;
    // Taking the quotes and escapes off can join what they kept apart (a quoted `j`, backslash, U+030C caron: the
    // backslash stood between the `j` and the caron, which NFKC then makes `ǰ`): the value is read again, and stored
    // only as a fixed point of the reading. Until a review of stop 50 it was stored decomposed, and an email change to
    // it made another account for the mailbox of `ǰohn@x` (login by the decomposed spelling reached the other one).
    const twice = Email.parseOnce(once);
    if (twice === once) return new Email(once);
    return twice !== null && Email.parseOnce(twice) === twice ? new Email(twice) : null;
  }

  /** The canonical value of one reading of `raw`, or null. */
  private static parseOnce(raw: string): string | null {
    // Validated after canonicalisation: NFKC can turn a harmless-looking character into a special (U+FF0C -> ',').
    const canonical = fold(mapDomainBeforeFold(raw));
    const at = canonical.lastIndexOf('@');
    if (at < 0) return null;
    const local = canonicalLocalPart(canonical.slice(0, at));
    const domain = canonicalDomain(canonical.slice(at + 1));
    if (local === null || domain === null) return null;
    const value = `${local}@${domain}`;
    if (utf8Length(local) > MAX_LOCAL || utf8Length(local) + 1 + wireLength(domain) > MAX_ADDRESS) return null;
    return value;
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

/**
 * Trimmed, NFKC, lower-case, and NFKC again: lower-casing can leave what NFKC composes (`J̌` has no precomposed
 * capital, so `J`+U+030C lower-cases to `j`+U+030C, which NFKC makes `ǰ`). Without the second pass the value stored
 * was not a fixed point: folding it again gave another string, so a lookup of the address as typed and one of the
 * stored value missed each other, and one mailbox could get two accounts (an outside review, 2026-12-05).
 */
function fold(raw: string): string {
  return lowerEachCodePoint(raw.trim().normalize('NFKC')).normalize('NFKC');
}

/**
 * Lower case one code point at a time, as UTS #46 maps a domain: `toLowerCase` on the whole string applies Unicode's
 * Final_Sigma rule, so a capital sigma became `ς` or `σ` by what followed it (`ΟΔΟΣ@` gave `οδος@`, `Οδοσ@` gave
 * `οδοσ@`: two accounts for case variants of one address), and `x@ΑΣ-Β.gr` was stored and mailed as `ας-β.gr`, another
 * DNS name than the `ασ-β.gr` the user typed (until stop 50; an outside review). A `ς` typed as such stays `ς`, as
 * in UTS #46's nontransitional processing (what Node's domainToASCII, and so the mailer, does).
 */
export function lowerEachCodePoint(text: string): string {
  let lowered = '';
  for (const char of text) lowered += char.toLowerCase();
  return lowered;
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

/**
 * The domain as stored, every label in Unicode form, or null when it is not two or more valid labels. The limits
 * apply to this form's wire length (wireLength), so the A-label and U-label spellings of one domain are accepted or
 * refused alike.
 */
function canonicalDomain(folded: string): string | null {
  const labels: string[] = [];
  // Without the ignored marks, NFKC again: what stood on either side of one may compose now.
  for (const label of foldDomainCase(folded.replace(IGNORED_IN_DOMAIN, '').normalize('NFKC')).split('.')) {
    const canonical = canonicalLabel(label);
    if (canonical === null) return null;
    labels.push(canonical);
  }
  const domain = labels.join('.');
  if (labels.length < 2 || wireLength(domain) > MAX_DOMAIN) return null;
  // An all-numeric last label would make `x@1.2.3.4` look like an address literal (RFC 3696 §2).
  if (/^\d+$/.test(labels[labels.length - 1]!)) return null;
  return domain;
}

/**
 * A label in the form it is compared and stored in. An A-label and its U-label are one DNS name, so one mailbox
 * (`x@xn--bcher-kva.example` is `x@bücher.example`): the A-label is decoded. Until stop 30 it was kept as typed,
 * and the two spellings made two accounts for one inbox (an outside review found the pre-hijacking path).
 * Refused: an A-label over 63 octets (what DNS carries; it also bounds the decoder), one that does not decode,
 * that decodes to ASCII only (not an IDN), that is not the one encoding of what it decodes to (RFC 5891 §5.4: the
 * U-label is sent as that encoding, another spelling is another DNS name), or that decodes to a label the fold
 * would change (upper case, compatibility forms, not NFC: IDNA2008 and UTS #46 refuse such an A-label, and mapping
 * it would mail another DNS name than the one typed) or the U-label rules refuse.
 */
function canonicalLabel(label: string): string | null {
  if (!label.startsWith(ACE_PREFIX)) return isLabel(label) ? label : null;
  if (label.length > MAX_LABEL) return null;
  const encoded = label.slice(ACE_PREFIX.length);
  const decoded = decodePunycode(encoded);
  if (decoded === null || !NON_ASCII.test(decoded) || foldDomainCase(fold(decoded)) !== decoded || encodePunycode(decoded) !== encoded) return null;
  return isLabel(decoded) ? decoded : null;
}

function isLabel(label: string): boolean {
  // Too long whatever its encoding (an A-label carries at least one character per code point after `xn--`): refused
  // before Punycode, which costs the square of the length (a review of stop 65: 252 compatibility characters).
  if ([...label].length > (NON_ASCII.test(label) ? MAX_LABEL - ACE_PREFIX.length : MAX_LABEL)) return false;
  if (!LABEL.test(label) || DEFAULT_IGNORABLE.test(label) || wireLength(label) > MAX_LABEL) return false;
  // IDNA2008 reserves hyphens in positions 3-4 of a U-label (an ASCII `xn--` label is decoded before this check).
  return !(NON_ASCII.test(label) && label.slice(2, 4) === '--');
}

/** A domain's (or a label's) length in ASCII on the wire: each non-ASCII label as its A-label (`xn--` + Punycode). */
function wireLength(domain: string): number {
  let length = 0;
  for (const label of domain.split('.')) {
    length += NON_ASCII.test(label) ? ACE_PREFIX.length + (encodePunycode(label)?.length ?? Infinity) : label.length;
  }
  return length + domain.split('.').length - 1;
}

function utf8Length(text: string): number {
  let octets = 0;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    octets += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return octets;
}
