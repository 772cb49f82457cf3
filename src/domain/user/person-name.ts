import { DomainErrors } from '../shared/errors';

/**
 * Characters no first or last name needs and that make a name lie about itself where it is shown: controls (C0,
 * DEL, C1: line breaks, escape sequences, bells), the line and paragraph separators, zero-width space and BOM, and
 * the bidirectional marks, embeddings, overrides and isolates (U+202E shows "nimdA" as "Admin"). Zero-width
 * joiner and non-joiner stay: several scripts spell names with them.
 */
const FORBIDDEN = /[\p{Cc}\u061C\u200B\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069\uFEFF]/u;

/**
 * A first or last name as a request gives it: trimmed; blank is no name (null); `undefined` (not given) stays
 * `undefined`. VALIDATION_ERROR naming `field` when it holds a character of FORBIDDEN. Applied where names come in
 * (register, profile update, invitation), not when stored names are read back.
 */
export function personName(raw: string | null | undefined, field: 'first_name' | 'last_name'): string | null | undefined {
  if (raw === undefined || raw === null) return raw;
  const trimmed = raw.trim();
  if (trimmed === '') return null;
  if (FORBIDDEN.test(trimmed)) {
    throw DomainErrors.validation(field, 'must not contain control, line-break, zero-width-space or bidirectional-control characters');
  }
  return trimmed;
}
