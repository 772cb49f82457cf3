/**
 * A failure that no retry of the same message can fix: the mailer refused to send it as it is (its address
 * would be rewritten, or needs an extension the server lacks). The outbox marks the row failed at once.
 */
export class PermanentDeliveryError extends Error {
  readonly permanent = true;

  constructor(message: string) {
    super(message);
    this.name = 'PermanentDeliveryError';
  }
}

/** The SMTP commands whose 5xx reply is about this message (its recipient or its content), not the relay. */
const MESSAGE_COMMANDS = new Set(['RCPT TO', 'DATA']);

/**
 * Whether a failure is about this message (a reply to its RCPT TO or DATA, or a refusal of the mailer itself) rather
 * than the relay being away or misconfigured (connection refused or cut, a timeout, EHLO, STARTTLS, AUTH, MAIL FROM,
 * or a RCPT TO refusal that is the relay's policy: see isRelayRefusalAtRcpt).
 * Only these count toward EMAIL_MAX_ATTEMPTS: an outage of the relay is retried until EMAIL_MAX_AGE, so that the
 * mail queued when it began still goes out once it is fixed (until 2026-12-02 ten attempts, 43-85 minutes of an
 * outage, marked everything queued failed for good: an outside review).
 */
export function isAboutMessage(error: unknown): boolean {
  if (error instanceof PermanentDeliveryError) return true;
  if (!(error instanceof Error)) return false;
  const { command } = error as { command?: unknown };
  return typeof command === 'string' && MESSAGE_COMMANDS.has(command) && !isRelayCondition(error);
}

/**
 * A reply to RCPT TO or DATA that is about the relay, not the message: `421` (the service is closing the channel,
 * RFC 5321 §3.8), a 4yz whose enhanced status is 4.3.x, the mail system's own state (RFC 3463: 4.3.0 other,
 * 4.3.1 storage full, as Postfix answers with a full disk, 4.3.2 not accepting messages), or a 5yz to RCPT TO that
 * refuses our sender or our relaying (isRelayRefusalAtRcpt). Retried until EMAIL_MAX_AGE as any outage; until
 * stop 48 each counted toward EMAIL_MAX_ATTEMPTS, and a relay with a full disk failed every queued mail for good in
 * about 50 minutes (an outside review, with a real SMTP server).
 */
function isRelayCondition(error: Error): boolean {
  const { responseCode, response } = error as { responseCode?: unknown; response?: unknown };
  if (responseCode === 421) return true;
  if (isRelayRefusalAtRcpt(error)) return true;
  if (typeof responseCode !== 'number' || responseCode < 400 || responseCode >= 500) return false;
  if (typeof response === 'string' && /^\d{3}[ -]4\.3\.\d{1,3}(\s|$)/.test(response)) return true;
  return isPolicyRefusalAtRcpt(error, 4);
}

/** The enhanced status code (RFC 3463) that opens an SMTP reply, e.g. `550 5.1.1 ...` gives [5, 1, 1]. */
function enhancedStatus(response: unknown): [number, number, number] | null {
  if (typeof response !== 'string') return null;
  const match = /^\d{3}[ -]([245])\.(\d{1,3})\.(\d{1,3})(\s|$)/.exec(response);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : null;
}

/** Reply texts that refuse our sender or our relaying, not the recipient (Postfix, Sendmail, Exim, qmail wording). */
const RELAY_OR_SENDER_TEXT =
  /\b(sender\s+address\s+rejected|relay\s+access\s+denied|relaying\s+denied|relay(ing)?\s+not\s+(permitted|allowed)|list\s+of\s+allowed\s+rcpthosts)\b/i;

/**
 * A 5yz reply to RCPT TO that refuses the relay's use by us (our settings), not the recipient. Postfix by default
 * (smtpd_delay_reject = yes) answers its client, HELO and sender checks at RCPT TO, so a MAIL_FROM the
 * authenticated user may not use comes as `553 5.7.1 <auth@...>: Sender address rejected: not owned by user ...`, and
 * missing relay rights as `554 5.7.1 <rcpt>: Relay access denied`: both the operator's to fix, after which the queued
 * mail goes out, as with a `535` to AUTH or a 5yz to MAIL FROM. Such a reply is one whose enhanced status is 5.7.x
 * (security or policy), or, with no enhanced status or one of another class, whose text says the sender was rejected
 * or relaying was denied. A refusal of the recipient stays permanent whatever its text: an enhanced status of 5.1.x
 * (addressing: `550 5.1.1` no such user) or 5.2.x (mailbox), as does a plain `550` whose text names neither.
 * Before, every 5yz to RCPT TO but 552 failed the row after one attempt, and such a fault of the settings failed
 * all the mail queued meanwhile for good (an outside review, with a real SMTP server).
 */
function isRelayRefusalAtRcpt(error: Error): boolean {
  return isPolicyRefusalAtRcpt(error, 5);
}

/**
 * The same refusal in class `klass` (5: permanent; 4: temporary, as Postfix answers with `soft_bounce = yes` or its
 * default `defer_unauth_destination`: `454 4.7.1 <x>: Relay access denied`). A 4yz counted toward EMAIL_MAX_ATTEMPTS
 * as about the message until a review of stop 50 found it: the same settings fault then failed the queued mail after
 * ten attempts.
 */
function isPolicyRefusalAtRcpt(error: Error, klass: 4 | 5): boolean {
  const { command, responseCode, response } = error as { command?: unknown; responseCode?: unknown; response?: unknown };
  if (command !== 'RCPT TO' || typeof responseCode !== 'number' || Math.floor(responseCode / 100) !== klass) return false;
  const status = enhancedStatus(response);
  if (status !== null && (status[1] === 1 || status[1] === 2)) return false;
  if (status !== null && status[1] === 7) return true;
  return typeof response === 'string' && RELAY_OR_SENDER_TEXT.test(response);
}

/**
 * Whether a delivery error is a permanent rejection of the message, so that retrying it would only be refused
 * again: a 5xx reply (nodemailer's `permanent`: every 5yz but 503) to RCPT TO or DATA, e.g. `550 5.1.1` (no such
 * user) or `554 5.7.1` to DATA (content refused), or a PermanentDeliveryError. Everything else is retried: 4xx
 * replies, connection errors and timeouts, and the 5xx replies that say the relay or our settings are wrong rather
 * than the message (EHLO, STARTTLS, AUTH such as `535` bad credentials, MAIL FROM refusing MAIL_FROM, and a RCPT TO
 * refusal of our sender or relaying: isRelayRefusalAtRcpt): the operator fixes those and the queued messages then
 * go out. A `552` or an enhanced status 5.2.2 to RCPT TO is retried too (RFC 5321 §4.5.3.1.10: treat it as the
 * temporary "mailbox full" that 452 says), counted toward EMAIL_MAX_ATTEMPTS as about the message.
 */
export function isPermanentFailure(error: unknown): boolean {
  if (error instanceof PermanentDeliveryError) return true;
  if (!(error instanceof Error)) return false;
  const { permanent, command, responseCode, response } = error as { permanent?: unknown; command?: unknown; responseCode?: unknown; response?: unknown };
  if (permanent !== true || typeof command !== 'string' || !MESSAGE_COMMANDS.has(command)) return false;
  if (command !== 'RCPT TO') return true;
  if (responseCode === 552 || isRelayRefusalAtRcpt(error)) return false;
  const status = enhancedStatus(response);
  return !(status !== null && status[0] === 5 && status[1] === 2 && status[2] === 2);
}
