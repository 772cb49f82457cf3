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
    await this.transport.sendMail({ from: this.settings.from, to: message.to, subject: message.subject, text: message.text, html: message.html });
  }

  close(): void {
    this.transport.close();
  }
}
