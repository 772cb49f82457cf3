/**
 * OAuth scopes (RFC 6749 §3.3): space-separated tokens of printable ASCII except space, `"` and `\`. The
 * order carries no meaning; duplicates collapse.
 */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
export const MAX_SCOPES = 50;
export const MAX_SCOPE_LENGTH = 100;

/** The tokens of a scope string, de-duplicated in first-seen order; null when the string is malformed. */
export function parseScope(raw: string): string[] | null {
  if (raw === '') return [];
  const parts = raw.split(' ');
  if (parts.some((part) => !SCOPE_TOKEN.test(part) || part.length > MAX_SCOPE_LENGTH)) return null;
  const unique = [...new Set(parts)];
  return unique.length > MAX_SCOPES ? null : unique;
}

export function formatScope(scopes: readonly string[]): string {
  return scopes.join(' ');
}
