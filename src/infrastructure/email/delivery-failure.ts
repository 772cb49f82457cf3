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
 * Whether a delivery error is a permanent rejection of the message, so that retrying it would only be refused
 * again: a 5xx reply (nodemailer's `permanent`: every 5yz but 503) to RCPT TO or DATA, e.g. `550 5.1.1` (no such
 * user) or `554 5.7.1` (content refused), or a PermanentDeliveryError. Everything else is retried: 4xx replies,
 * connection errors and timeouts, and the 5xx replies that say the relay or our settings are wrong rather than
 * the message (EHLO, STARTTLS, AUTH such as `535` bad credentials, MAIL FROM refusing MAIL_FROM): the operator
 * fixes those and the queued messages then go out. A `552` to RCPT TO is retried too (RFC 5321 §4.5.3.1.10:
 * treat it as the temporary "mailbox full" that 452 says).
 */
/**
 * Whether a failure is about this message (a reply to its RCPT TO or DATA, or a refusal of the mailer itself) rather
 * than the relay being away or misconfigured (connection refused or cut, a timeout, EHLO, STARTTLS, AUTH, MAIL FROM).
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
 * RFC 5321 §3.8), or a 4yz whose enhanced status is 4.3.x, the mail system's own state (RFC 3463: 4.3.0 other,
 * 4.3.1 storage full, as Postfix answers with a full disk, 4.3.2 not accepting messages). Retried until
 * EMAIL_MAX_AGE as any outage; until stop 48 each counted toward EMAIL_MAX_ATTEMPTS, and a relay with a full disk
 * failed every queued mail for good in about 50 minutes (an outside review, with a real SMTP server).
 */
function isRelayCondition(error: Error): boolean {
  const { responseCode, response } = error as { responseCode?: unknown; response?: unknown };
  if (responseCode === 421) return true;
  if (typeof responseCode !== 'number' || responseCode < 400 || responseCode >= 500) return false;
  return typeof response === 'string' && /^\d{3}[ -]4\.3\.\d{1,3}(\s|$)/.test(response);
}

export function isPermanentFailure(error: unknown): boolean {
  if (error instanceof PermanentDeliveryError) return true;
  if (!(error instanceof Error)) return false;
  const { permanent, command, responseCode } = error as { permanent?: unknown; command?: unknown; responseCode?: unknown };
  if (permanent !== true || typeof command !== 'string' || !MESSAGE_COMMANDS.has(command)) return false;
  return !(command === 'RCPT TO' && responseCode === 552);
}
