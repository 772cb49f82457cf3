import { domainToASCII } from 'node:url';
import nodemailer, { type Transporter } from 'nodemailer';
import type { EmailMessage, Mailer } from '@application/ports/mailer';

export interface SmtpSettings {
  /** smtp://user:pass@host:587 (STARTTLS when offered) or smtps://host:465 (TLS from the start). */
  url: string;
  from: string;
  /** Verify the server's certificate (default). Off only for a test server with a self-signed one. */
  rejectUnauthorized: boolean;
  /** Refuse to send unless the connection is upgraded with STARTTLS (smtp:// URLs). */
  requireTls: boolean;
}

/**
 * Delivery over SMTP with nodemailer, one connection per message. Timeouts are short so that a dead server
 * fails the attempt quickly; the email outbox retries it, and its lease (5 min) outlasts any one attempt.
 */
export class SmtpMailer implements Mailer {
  private readonly transport: Transporter;

  constructor(private readonly settings: SmtpSettings) {
    this.transport = nodemailer.createTransport({
      url: settings.url,
      requireTLS: settings.requireTls,
      tls: { rejectUnauthorized: settings.rejectUnauthorized },
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 60_000,
      // Messages are built from our templates only; never let a field make nodemailer read a file or a URL.
      disableFileAccess: true,
      disableUrlAccess: true,
    });
  }

  async send(message: EmailMessage): Promise<void> {
    // An address object, never a string: nodemailer parses a string as an address list, and one that is not a
    // single mailbox ("x@evil.test(example.com)", "b<x@evil.test>", "x@evil.test,example.com") would go to
    // x@evil.test. The envelope is set from the same object, so RCPT TO is exactly this one mailbox.
    const to = { name: '', address: message.to };
    await this.transport.sendMail({
      from: this.settings.from,
      to,
      envelope: { from: this.settings.from, to: [{ name: '', address: envelopeAddress(message.to) }] },
      subject: message.subject,
      text: message.text,
      html: message.html,
    });
  }

  close(): void {
    this.transport.close();
  }
}

/**
 * The RCPT TO form of a mailbox: an IDN domain as its A-label (`user@xn--bcher-kva.example`), so that an ASCII
 * local part needs no SMTPUTF8 from the server (nodemailer already punycodes the To header, not the envelope).
 * A non-ASCII local part needs SMTPUTF8 anyway and stays as it is, as does a domain UTS #46 refuses.
 */
export function envelopeAddress(address: string): string {
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  if (at < 0 || /[^\x00-\x7f]/.test(local)) return address;
  const domain = domainToASCII(address.slice(at + 1));
  return domain === '' ? address : `${local}@${domain}`;
}
