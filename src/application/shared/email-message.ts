import type { EmailMessage } from '../ports/mailer';

/** Links are built from the configured public URL only, never from a request's Host. */
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
 * The new address as the owner's notices name it. A dot-atom address is safe to repeat (it shows as a mailto link at
 * most); a quoted local part may hold spaces, `:` and `/`, i.e. a URL of the requester's choosing in a service email
 * (an outside review, 2026-12-02), so only its domain is named then.
 */
export function addressInNotice(address: string): string {
  if (!address.startsWith('"')) return address;
  return `an address at ${address.slice(address.lastIndexOf('@') + 1)}`;
}

/**
 * The recipient's own address, `this address (…)`: in full when dot-atom; a quoted one is not repeated (since stop 51;
 * it was, and the URL a quoted local part can hold went out in a service email to that mailbox: a review).
 */
export function thisAddress(to: string): string {
  return to.startsWith('"') ? 'this address' : `this address (${to})`;
}
