import type { EmailMessage } from '../ports/mailer';

/** Links are built from the configured public URL only, never from a request's Host. */
export function link(publicUrl: string, path: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/${path}?token=${encodeURIComponent(token)}`;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function message(to: string, subject: string, paragraphs: string[], action?: { label: string; url: string }): EmailMessage {
  const text = [...paragraphs, ...(action ? [`${action.label}: ${action.url}`] : [])].join('\n\n');
  const body = paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('');
  const button = action ? `<p><a href="${escapeHtml(action.url)}">${escapeHtml(action.label)}</a></p>` : '';
  const html = `<!doctype html><html><body>${body}${button}</body></html>`;
  return { to, subject, text: `${text}\n`, html };
}

export function verificationEmail(to: string, publicUrl: string, token: string, ttlHours: number): EmailMessage {
  return message(
    to,
    'Verify your email address',
    [
      'Confirm that this address belongs to you to finish creating your account.',
      `The link is valid for ${ttlHours} hours and can be used once. If you did not sign up, ignore this email.`,
    ],
    { label: 'Verify email', url: link(publicUrl, 'verify-email', token) },
  );
}
