import type { EmailMessage } from '../ports/mailer';

/**
 * A link's lifetime in words: whole hours as hours ("1 hour", "72 hours"), anything else in whole minutes, rounded
 * down ("15 minutes", "90 minutes"): never more than the link gives (until stop 34 a TTL was rounded to hours, so a
 * 15-minute link read "valid for 0 hours" and a 90-minute one "2 hours"; an outside review found it).
 */
export function validFor(ttlSeconds: number): string {
  if (ttlSeconds >= 3600 && ttlSeconds % 3600 === 0) return plural(ttlSeconds / 3600, 'hour');
  return plural(Math.max(1, Math.floor(ttlSeconds / 60)), 'minute');
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** Links are built from the configured public URL only, never from a request's Host. */
export function link(publicUrl: string, path: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/${path}?token=${encodeURIComponent(token)}`;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function message(to: string, subject: string, paragraphs: string[], action?: { label: string; url: string }): EmailMessage {
  const text = [...paragraphs, ...(action ? [`${action.label}: ${action.url}`] : [])].join('\n\n');
  const body = paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('');
  const button = action ? `<p><a href="${escapeHtml(action.url)}">${escapeHtml(action.label)}</a></p>` : '';
  const html = `<!doctype html><html><body>${body}${button}</body></html>`;
  return { to, subject, text: `${text}\n`, html };
}

/** A page of the front end without a token (e.g. where to ask for a reset link). */
export function page(publicUrl: string, path: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/${path}`;
}

export const NOT_YOU = 'If this was not you, reset your password now and review the devices signed in to your account.';

/**
 * An address that is safe to repeat in a service email: a local part of letters, marks, digits and `. _ + -` only (in
 * any script: Devanagari and Thai need their vowel signs), which shows as a mailto link at most. Anything else may carry a URL of the requester's choosing: a quoted
 * local part holds spaces, `:` and `/` (an outside review, 2026-12-02), and a plain one holds `/ ? = & # %`, so
 * `www.evil.example/undo?x@attacker.example` went out in full to the old address, where mail clients link `www.` text
 * (an outside review, 2026-12-08).
 */
function repeatable(address: string): boolean {
  const at = address.lastIndexOf('@');
  return at > 0 && /^[\p{L}\p{M}\p{N}._+-]+$/u.test(address.slice(0, at));
}

/** The new address as the owner's notices name it: in full when repeatable, else by its domain only. */
export function addressInNotice(address: string): string {
  if (repeatable(address)) return address;
  return `an address at ${address.slice(address.lastIndexOf('@') + 1)}`;
}

/**
 * The recipient's own address, `this address (…)`: in full when repeatable; otherwise not repeated (since stop 51 for
 * quoted ones: the URL a quoted local part can hold went out in a service email to that mailbox: a review).
 */
export function thisAddress(to: string): string {
  return repeatable(to) ? `this address (${to})` : 'this address';
}
