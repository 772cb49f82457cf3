import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import type { EmailMessage, Mailer } from '@application/ports/mailer';

/**
 * Development delivery: each message becomes an RFC 5322 `.eml` file under `<dataDir>/mail/`, composed by
 * nodemailer exactly as it would go over SMTP, lines ending in CRLF as RFC 5322 §2.1 has them (until 2026-12-07 in LF,
 * which strict parsers and SMTP tools fed the file refuse: a review). The log line names the file, not the link: the
 * link carries a token, and tokens never go into logs.
 */
export class DevMailboxMailer implements Mailer {
  private readonly composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  private counter = 0;

  constructor(
    private readonly directory: string,
    private readonly from: string,
    private readonly logger: Logger,
  ) {}

  async send(message: EmailMessage): Promise<void> {
    // The recipient as an address object, as in SmtpMailer: nodemailer must not re-parse it as an address list.
    const info = await this.composer.sendMail({ from: this.from, ...message, to: { name: '', address: message.to } });
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}-${++this.counter}.eml`;
    const file = join(this.directory, name);
    await writeFile(file, info.message as Buffer, { mode: 0o600 });
    this.logger.info({ file, subject: message.subject }, 'dev mailbox: email written (open the .eml file for the link)');
  }
}
