import type { EmailMessage } from '../ports/mailer';

/** What a security notice tells the account owner; never a token, never a link that carries one. */
export type SecurityNotice =
  | { kind: 'refresh_token_reuse'; occurredAt: Date }
  | { kind: 'account_locked'; occurredAt: Date; lockedUntil: Date | null };

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function utc(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function paragraphs(notice: SecurityNotice): { subject: string; lines: string[] } {
  if (notice.kind === 'refresh_token_reuse') {
    return {
      subject: 'We signed out a session of your account',
      lines: [
        `On ${utc(notice.occurredAt)} a sign-in token of your account that had already been replaced was used again. This can mean that it was copied from one of your devices, so we signed that session out.`,
        'If you were not doing anything unusual, change your password and review the devices signed in to your account.',
      ],
    };
  }
  const until = notice.lockedUntil ? ` until ${utc(notice.lockedUntil)}` : ' for a while';
  return {
    subject: 'Sign-in to your account is temporarily blocked',
    lines: [
      `After several failed sign-in attempts on ${utc(notice.occurredAt)}, signing in to your account is blocked${until}.`,
      'If this was not you, someone may be guessing your password: once you can sign in again, choose a new, unique password. You can also reset it from the sign-in page at any time.',
    ],
  };
}

export function securityNoticeEmail(to: string, notice: SecurityNotice, publicUrl: string): EmailMessage {
  const { subject, lines } = paragraphs(notice);
  const all = [...lines, `Your account: ${publicUrl.replace(/\/+$/, '')}`];
  const html = `<!doctype html><html><body>${all.map((p) => `<p>${escapeHtml(p)}</p>`).join('')}</body></html>`;
  return { to, subject, text: `${all.join('\n\n')}\n`, html };
}
