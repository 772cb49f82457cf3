import type { EmailMessage } from '../ports/mailer';

/** What a security notice tells the account owner; never a token, never a link that carries one. */
export type SecurityNotice =
  | { kind: 'refresh_token_reuse'; occurredAt: Date }
  /**
   * `factor`: what failed. `password`: anyone who types the address can cause it. `second_factor`: wrong codes after
   * the right password, so whoever did it knows the password.
   */
  | { kind: 'account_locked'; occurredAt: Date; lockedUntil: Date | null; factor: 'password' | 'second_factor' }
  | { kind: 'mfa_enabled'; occurredAt: Date }
  /** `bySupport`: an administrator removed it (the user's own request to support, or a takeover to look into). */
  | { kind: 'mfa_disabled'; occurredAt: Date; bySupport: boolean }
  | { kind: 'recovery_code_used'; occurredAt: Date; codesLeft: number }
  | { kind: 'recovery_codes_regenerated'; occurredAt: Date };

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function utc(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

const NOT_YOU = 'If this was not you, someone else is signed in to your account: reset your password now and review the devices signed in to it.';
/**
 * Turning MFA on needs only a session (CONTRACT §3: `code`), and a password reset leaves MFA on by design: someone
 * holding a stolen session who set it up with their own device keeps the second step after the owner's reset, so
 * the owner is told to ask for its removal too (the admin API's DELETE /admin/users/:id/mfa).
 */
const MFA_NOT_YOU =
  'If this was not you, someone else is signed in to your account and set it up with their own device: reset your password now, then ask support to turn two-factor authentication off (a password reset leaves it on), and set it up again with yours.';

function mfaParagraphs(notice: Extract<SecurityNotice, { kind: `mfa_${string}` | `recovery_${string}` }>): { subject: string; lines: string[] } {
  switch (notice.kind) {
    case 'mfa_enabled':
      return {
        subject: 'Two-factor authentication is on',
        lines: [`On ${utc(notice.occurredAt)} two-factor authentication was turned on for your account: signing in now also asks for a code from your authenticator app.`, 'Keep your backup codes somewhere safe: each one signs you in once if you lose the device.', MFA_NOT_YOU],
      };
    case 'mfa_disabled':
      return {
        subject: 'Two-factor authentication is off',
        lines: [
          notice.bySupport
            ? `On ${utc(notice.occurredAt)} our support team removed two-factor authentication from your account. Your password alone now signs you in.`
            : `On ${utc(notice.occurredAt)} two-factor authentication was turned off for your account. Your password alone now signs you in.`,
          NOT_YOU,
        ],
      };
    case 'recovery_code_used': {
      const left = notice.codesLeft === 1 ? '1 backup code is' : `${notice.codesLeft} backup codes are`;
      return {
        subject: 'A backup code was used to sign in',
        lines: [
          `On ${utc(notice.occurredAt)} one of your backup codes was used to sign in to your account. ${left} left.`,
          notice.codesLeft <= 3 ? 'You are running out of backup codes: generate a new set from your account settings.' : 'Each code works once.',
          NOT_YOU,
        ],
      };
    }
    case 'recovery_codes_regenerated':
      return {
        subject: 'New backup codes were generated',
        lines: [`On ${utc(notice.occurredAt)} a new set of backup codes was generated for your account; the previous codes no longer work.`, NOT_YOU],
      };
  }
}

function paragraphs(notice: SecurityNotice): { subject: string; lines: string[] } {
  if (notice.kind !== 'refresh_token_reuse' && notice.kind !== 'account_locked') return mfaParagraphs(notice);
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
  if (notice.factor === 'second_factor') return secondFactorLocked(notice.occurredAt, until);
  return {
    subject: 'Sign-in to your account is temporarily blocked',
    lines: [
      `After several failed sign-in attempts on ${utc(notice.occurredAt)}, signing in to your account is blocked${until}.`,
      'If this was not you, someone may be guessing your password: once you can sign in again, choose a new, unique password. You can also reset it from the sign-in page at any time.',
    ],
  };
}

/**
 * Only someone who knows the password reaches the second step, so the advice is not "someone may be guessing" but
 * "someone has it": reset it now. A reset does not lift this lock (on purpose: see User.recordSecondFactorLockout).
 */
function secondFactorLocked(occurredAt: Date, until: string): { subject: string; lines: string[] } {
  return {
    subject: 'Sign-in blocked after your password was used with wrong two-factor codes',
    lines: [
      `On ${utc(occurredAt)} your account's password was entered correctly, but the two-factor code asked for next was wrong several times, so signing in to your account is blocked${until}.`,
      'If this was not you, someone else knows your password. Reset it now: choose "Forgot password" on the sign-in page and follow the link we email you; the old password stops working at once.',
      `A reset does not lift the block: signing in stays blocked${until} either way. If it was you (a mistyped code, a phone whose clock is off), sign in again after that, or ask support to lift the block sooner.`,
    ],
  };
}

export function securityNoticeEmail(to: string, notice: SecurityNotice, publicUrl: string): EmailMessage {
  const { subject, lines } = paragraphs(notice);
  const all = [...lines, `Your account: ${publicUrl.replace(/\/+$/, '')}`];
  const html = `<!doctype html><html><body>${all.map((p) => `<p>${escapeHtml(p)}</p>`).join('')}</body></html>`;
  return { to, subject, text: `${all.join('\n\n')}\n`, html };
}
