import { retryDelayMs } from '@application/shared/retry-delay';

/** The settings every leased-queue worker shares (email outbox, account requests). */
export interface LeasedQueueSettings {
  /** Rows claimed per round. */
  batchSize: number;
  /** How often to look for due rows without a poke (retries, rows queued by other instances). */
  pollIntervalMs: number;
  /** How long a claim holds a row: longer than the worst processing of one. */
  leaseSeconds: number;
  /** First retry delay; doubles per attempt up to `maxRetrySeconds`, with jitter (retryDelayMs). */
  baseRetrySeconds: number;
  maxRetrySeconds: number;
  /** Attempts before a row is given up on. */
  maxAttempts: number;
}

export function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}

/** When a row that failed its `attempts`-th attempt at `now` is due again. */
export function nextAttemptAt(now: Date, attempts: number, settings: Pick<LeasedQueueSettings, 'baseRetrySeconds' | 'maxRetrySeconds'>): Date {
  return new Date(now.getTime() + retryDelayMs(attempts, { baseMs: settings.baseRetrySeconds * 1000, maxMs: settings.maxRetrySeconds * 1000 }));
}

/**
 * What reads as an email address in an error: a quoted local part and what follows its `@`; a quoted string holding
 * an `@` (an address JSON-quoted into a message); a run of characters other than whitespace and angle brackets
 * around an `@` (`<r5@example.com>` keeps its brackets).
 */
const ADDRESS_LIKE = /"(?:[^"\\\r\n]|\\.)*"@[^\s<>]*|"(?:[^"\\\r\n]|\\.)*@(?:[^"\\\r\n]|\\.)*"|[^\s<>]*@[^\s<>]*/gu;
const REDACTED = '[address]';
/**
 * What may be a link's token in an error: a URL's query and fragment, and a run of 22 or more base64url characters
 * (16 bytes or more; the links' tokens are 32 bytes, 43 characters). Content filters refuse a message at DATA
 * quoting the URL they blocked (`554 5.7.1 blocklisted URL https://…/reset-password?token=…`): until stop 51 the live
 * token went to `email_outbox.last_error` and the log, and whoever read either could use the link (a review).
 */
const TOKEN_LIKE = /[?#][^\s<>"']*|[A-Za-z0-9_-]{22,}/g;
const TOKEN_REDACTED = '[redacted]';
const MAX_DESCRIPTION = 500;

/**
 * Code and message only, bounded: never a payload or a body (nodemailer errors carry none), for the row and the log.
 * Addresses are redacted (an SMTP reply such as `550 5.1.1 <r5@example.com>: Recipient address rejected` names the
 * recipient): each of `redact` verbatim (the row's own recipient, even where it does not read as one, such as a quoted
 * local part with spaces), then anything that reads as an address in the first 500 characters, which is all that is
 * kept (a word cut there is dropped: it could be the start of an address). The pattern runs on those 500 only, so a
 * long reply costs no more than a short one. Then what may be a link's token (TOKEN_LIKE).
 *
 * `secrets` (the SMTP_URL user and password and their AUTH forms, smtpCredentialForms) go first, verbatim, as
 * `[redacted]`: a server may quote the login it refused ("535 auth refused for mailer/<password>"), and until stop 52
 * the SMTP password went to `email_outbox.last_error` and the log that way (a review). Longest first, so that a value
 * holding a shorter one (a password holding the user name) goes whole.
 */
export function describeFailure(error: unknown, redact: readonly string[] = [], secrets: readonly string[] = []): string {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  let text = error instanceof Error ? `${typeof code === 'string' ? `${code}: ` : ''}${error.message}` : String(error);
  const verbatim = (values: readonly string[], replacement: string) => {
    for (const value of values.filter((v) => v !== '')) {
      // As given and as JSON.stringify would quote it inside a message (nodemailer's "Invalid recipient" does).
      for (const form of new Set([value, JSON.stringify(value).slice(1, -1)])) text = text.split(form).join(replacement);
    }
  };
  verbatim([...secrets].sort((a, b) => b.length - a.length), TOKEN_REDACTED);
  verbatim(redact, REDACTED);
  if (text.length > MAX_DESCRIPTION) text = `${text.slice(0, MAX_DESCRIPTION).replace(/\S*$/u, '')}...`;
  return text.replace(ADDRESS_LIKE, REDACTED).replace(TOKEN_LIKE, TOKEN_REDACTED).slice(0, MAX_DESCRIPTION);
}
