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
export function isPermanentFailure(error: unknown): boolean {
  if (error instanceof PermanentDeliveryError) return true;
  if (!(error instanceof Error)) return false;
  const { permanent, command, responseCode } = error as { permanent?: unknown; command?: unknown; responseCode?: unknown };
  if (permanent !== true || typeof command !== 'string' || !MESSAGE_COMMANDS.has(command)) return false;
  return !(command === 'RCPT TO' && responseCode === 552);
}
