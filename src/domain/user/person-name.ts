import { DomainErrors } from '../shared/errors';

/**
 * Characters no first or last name needs and that make a name lie about itself where it is shown: controls (C0,
 * DEL, C1: line breaks, escape sequences, bells), the line and paragraph separators, zero-width space and BOM, and
 * the bidirectional marks, embeddings, overrides and isolates (U+202E shows "nimdA" as "Admin"). Zero-width
 * joiner and non-joiner stay: several scripts spell names with them.
 */
const FORBIDDEN = /[\p{Cc}\u061C\u200B\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069\uFEFF]/u;
/**
 * Every other invisible code point (Unicode's Default_Ignorable_Code_Point: the word joiner and its kin, the soft
 * hyphen, Hangul fillers, the tag characters that carry hidden ASCII text) and the noncharacters, since stop 50 (an
 * outside review: `Ad\u2060min`, a name of one soft hyphen that shows blank, and tag-character text were stored).
 * Kept: the zero-width joiner and non-joiner, the combining grapheme joiner, and the variation selectors (emoji
 * presentation; the ideographic variation sequences of Japanese names; the Mongolian free variation selectors and
 * vowel separator, which traditional Mongolian spelling needs).
 */
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Noncharacter_Code_Point}]/u;
const KEPT_INVISIBLE = /[\u034F\u180B-\u180F\u200C\u200D\uFE00-\uFE0F\u{E0100}-\u{E01EF}]/gu;
/**
 * What shows of a name: a letter, digit, punctuation mark or symbol, or a private-use character (the name characters
 * Unicode lacks that Japanese systems and Hong Kong's HKSCS put there; the second review of stop 51). The kept invisibles and the combining marks join
 * or modify such a character; a name of nothing else (a lone ZWNJ, a variation selector, combining marks alone) or of
 * blanks (the Braille pattern blank U+2800 and the spaces inside a name) shows as nothing, and was stored until stop
 * 51 (a review of stop 50).
 */
const VISIBLE = /[\p{L}\p{N}\p{P}\p{S}\p{Co}]/u;
const SHOWS_BLANK = /[\p{M}\p{Z}\u2800]/gu;

/**
 * A first or last name as a request gives it: trimmed; blank is no name (null); `undefined` (not given) stays
 * `undefined`. VALIDATION_ERROR naming `field` when it holds a character of FORBIDDEN. Applied where names come in
 * (register, profile update, invitation), not when stored names are read back.
 */
export function personName(raw: string | null | undefined, field: 'first_name' | 'last_name'): string | null | undefined {
  if (raw === undefined || raw === null) return raw;
  const trimmed = raw.trim();
  if (trimmed === '') return null;
  if (FORBIDDEN.test(trimmed) || INVISIBLE.test(trimmed.replace(KEPT_INVISIBLE, ''))) {
    throw DomainErrors.validation(field, 'must not contain control, line-break, invisible or bidirectional-control characters');
  }
  if (!VISIBLE.test(trimmed.replace(KEPT_INVISIBLE, '').replace(SHOWS_BLANK, ''))) {
    throw DomainErrors.validation(field, 'must contain a visible character');
  }
  return trimmed;
}
